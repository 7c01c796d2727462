"""--check: the exported sessions run the way transformers.js runs them, against PyTorch.

Inputs are exactly what the app feeds: the processor's float32 pixel_values and int64
image_grid_thw (whatever the session's dtype), int64 input_ids, attention_mask and 3-axis
position_ids, an empty KV cache of the dtype the decoder declares. The image features are
copied into the token embeddings at the image-pad positions, which needs both to have one
float type (transformers.js copies typed arrays). Greedy decoding feeds the cache back and
positions advance by the mRoPE delta, as in transformers.js.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ORT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64}


def python_format(template: str, **values: str) -> str:
    return template.format(**values)


def grey_test_image(width: int, height: int) -> np.ndarray:
    """A deterministic 8-bit grey slice (a disc with texture), replicated to 3 equal channels."""
    y, x = np.mgrid[0:height, 0:width]
    radius = np.hypot(x - width / 2, y - height / 2) / (min(width, height) / 2)
    grey = np.where(radius < 0.85, 60 + (x * 13 + y * 7) % 50, 5) + np.where(np.hypot(x - width * 0.35, y - height * 0.45) < min(width, height) * 0.1, 120, 0)
    grey = np.clip(grey, 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


@dataclass
class CheckCase:
    prompt_text: str
    image: np.ndarray
    max_new_tokens: int

    @staticmethod
    def from_prompt_json(path: Path, max_new_tokens: int, question: str = "Where is the lesion?", width: int = 224, height: int = 168) -> "CheckCase":
        prompt = json.loads(path.read_text(encoding="utf-8"))
        template = prompt["variants"][prompt["default"]]
        return CheckCase(python_format(template, Question=question, Answer=prompt["answerExample"]), grey_test_image(width, height), max_new_tokens)


@dataclass
class Reference:
    tokens: list[int]
    input_ids: np.ndarray
    attention_mask: np.ndarray
    pixel_values: np.ndarray
    image_grid_thw: np.ndarray
    position_ids: np.ndarray
    rope_delta: int
    image_token_id: int
    eos_ids: list[int]


@dataclass
class Agreement:
    tokens: list[int]
    matching: int


def processor_inputs(processor, case: CheckCase):
    from PIL import Image

    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": case.prompt_text}]}]
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return processor(text=[text], images=[Image.fromarray(case.image)], return_tensors="pt")


def rope_index(model, inputs):
    import inspect

    owner = model.model if hasattr(model.model, "get_rope_index") else model
    kwargs = {"image_grid_thw": inputs["image_grid_thw"], "attention_mask": inputs["attention_mask"]}
    if "mm_token_type_ids" in inspect.signature(owner.get_rope_index).parameters:  # transformers 5.x
        kwargs["mm_token_type_ids"] = inputs.get("mm_token_type_ids", (inputs["input_ids"] == model.config.image_token_id).int())
    return owner.get_rope_index(inputs["input_ids"], **kwargs)


def torch_reference(model, processor, case: CheckCase) -> Reference:
    import torch

    inputs = processor_inputs(processor, case)
    with torch.no_grad():
        generated = model.generate(**{k: v.to(model.device) for k, v in inputs.items()}, do_sample=False, max_new_tokens=case.max_new_tokens)
        position_ids, delta = rope_index(model, inputs)
    prompt_length = inputs["input_ids"].shape[1]
    eos = model.generation_config.eos_token_id
    return Reference(
        tokens=generated[0, prompt_length:].tolist(),
        input_ids=inputs["input_ids"].numpy().astype(np.int64),
        attention_mask=inputs["attention_mask"].numpy().astype(np.int64),
        pixel_values=inputs["pixel_values"].numpy(),
        image_grid_thw=inputs["image_grid_thw"].numpy().astype(np.int64),
        position_ids=position_ids.numpy().astype(np.int64),
        rope_delta=int(delta.reshape(-1)[0]),
        image_token_id=int(model.config.image_token_id),
        eos_ids=[eos] if isinstance(eos, int) else list(eos or []),
    )


def check_variant(out: Path, files: dict[str, str], reference: Reference) -> Agreement:
    import onnxruntime as ort

    sessions = {name: ort.InferenceSession(str(out / "onnx" / file), providers=["CPUExecutionProvider"]) for name, file in files.items()}
    if reference.pixel_values.dtype != np.float32:
        raise SystemExit(f"the processor made {reference.pixel_values.dtype} pixel_values; the app feeds float32")
    embeds = sessions["embed_tokens"].run(None, {"input_ids": reference.input_ids})[0]
    features = sessions["vision_encoder"].run(None, {"pixel_values": reference.pixel_values, "image_grid_thw": reference.image_grid_thw})[0]
    if features.dtype != embeds.dtype:
        raise SystemExit(f"vision_encoder gives {features.dtype} features but embed_tokens {embeds.dtype} embeddings: transformers.js needs one type")
    image_positions = reference.input_ids[0] == reference.image_token_id
    if int(image_positions.sum()) != features.shape[0]:
        raise SystemExit(f"{int(image_positions.sum())} image tokens in the prompt but {features.shape[0]} image features")
    embeds[0, image_positions] = features

    decoder = sessions["decoder_model_merged"]
    past = {}
    for meta in decoder.get_inputs():
        if meta.name.startswith("past_key_values."):
            dims = [1 if d == "batch_size" else 0 if isinstance(d, str) else d for d in meta.shape]
            past[meta.name] = np.zeros(dims, dtype=ORT_TYPES[meta.type])
    outputs = [o.name for o in decoder.get_outputs()]
    mask = reference.attention_mask
    positions = reference.position_ids
    tokens: list[int] = []
    step_embeds = embeds
    for _ in range(len(reference.tokens)):
        feeds = {"inputs_embeds": step_embeds, "attention_mask": mask, "position_ids": positions, "num_logits_to_keep": np.array(1, dtype=np.int64), **past}
        results = dict(zip(outputs, decoder.run(None, feeds)))
        token = int(results["logits"][0, -1].astype(np.float32).argmax())
        tokens.append(token)
        if token in reference.eos_ids:
            break
        past = {name.replace("present.", "past_key_values."): value for name, value in results.items() if name.startswith("present.")}
        step_embeds = sessions["embed_tokens"].run(None, {"input_ids": np.array([[token]], dtype=np.int64)})[0]
        total = mask.shape[1]
        mask = np.ones((1, total + 1), dtype=np.int64)
        positions = np.full((3, 1, 1), total + reference.rope_delta, dtype=np.int64)
    matching = 0
    for mine, theirs in zip(tokens, reference.tokens):
        if mine != theirs:
            break
        matching += 1
    return Agreement(tokens=tokens, matching=matching)
