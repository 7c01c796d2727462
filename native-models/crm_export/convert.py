"""fp32 ONNX sessions -> the dtype variants transformers.js loads (fp32, fp16, q4, q4f16).

Every variant starts from a fresh load of the fp32 file on disk: onnx.save_model with external
data rewrites the proto it is given, and the fp16 converter edits in place, so a cached proto
would leak one variant's changes into the next. Each load holds one copy of a session's
weights; the 4-bit quantiser adds about an eighth of that.
"""
from __future__ import annotations

import gc
from pathlib import Path

import onnx
from onnx import TensorProto, helper, shape_inference

# transformers.js feeds the vision encoder float32 pixel_values whatever the session's dtype.
FLOAT32_INPUTS = {"vision_encoder": ["pixel_values"]}


def save_external(model: onnx.ModelProto, path: Path) -> None:
    """One .onnx plus <name>.onnx_data with every initializer (the layout the manifest lists)."""
    for stale in (path, Path(str(path) + "_data")):
        if stale.exists():
            stale.unlink()
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=path.name + "_data", size_threshold=0)


def load_with_shapes(source: Path) -> onnx.ModelProto:
    """The fp32 graph with inferred value types, so the fp16 converter sees which tensors are
    integer index math (Range, shapes) and leaves them alone. infer_shapes_path works above 2 GB."""
    inferred = source.with_name(source.stem + ".shapes.onnx")
    shape_inference.infer_shapes_path(str(source), str(inferred))
    model = onnx.load(str(inferred), load_external_data=False)
    onnx.load_external_data_for_model(model, str(source.parent))
    inferred.unlink()
    return model


def keep_float32_inputs(model: onnx.ModelProto, names: list[str]) -> None:
    """Turns the named float16 inputs back to float32 with a Cast to float16 right after them."""
    graph = model.graph
    for graph_input in graph.input:
        if graph_input.name not in names or graph_input.type.tensor_type.elem_type != TensorProto.FLOAT16:
            continue
        cast_name = f"{graph_input.name}_as_float16"
        for node in graph.node:
            for i, name in enumerate(node.input):
                if name == graph_input.name:
                    node.input[i] = cast_name
        graph_input.type.tensor_type.elem_type = TensorProto.FLOAT
        graph.node.insert(0, helper.make_node("Cast", [graph_input.name], [cast_name], name=f"Cast_{cast_name}", to=TensorProto.FLOAT16))


def position_math_nodes(model: onnx.ModelProto) -> set[str]:
    """Nodes that turn integer positions into rotary angles, cos and sin (and their constants).

    In float16 an angle position * inv_freq is off by up to position/1000 radians, so from a few
    hundred positions on the rotary embedding would be noise; HF computes it in float32 too.
    These nodes stay float32 and the converter casts their results to float16 where they meet
    the activations.
    """
    graph = model.graph
    types = {v.name: v.type.tensor_type.elem_type for v in list(graph.value_info) + list(graph.input) + list(graph.output)}
    constants = {i.name for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            constants.update(node.output)
    integer = {TensorProto.INT64, TensorProto.INT32, TensorProto.BOOL}
    derived: set[str] = set()
    blocked: set[str] = set()
    for node in graph.node:
        if node.op_type == "Constant":
            continue
        float_inputs = [name for name in node.input if name and types.get(name) == TensorProto.FLOAT]
        starts = node.op_type == "Cast" and types.get(node.input[0]) in integer and any(a.name == "to" and a.i == TensorProto.FLOAT for a in node.attribute)
        continues = bool(float_inputs) and any(n in derived for n in float_inputs) and all(n in derived or n in constants for n in float_inputs)
        if starts or continues:
            blocked.add(node.name)
            derived.update(node.output)
    consumers: dict[str, list[str]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node.name)
    for node in graph.node:
        if node.op_type == "Constant" and all(c in blocked for o in node.output for c in consumers.get(o, [None])):
            blocked.add(node.name)
    return blocked


def name_unnamed_nodes(model: onnx.ModelProto) -> None:
    for index, node in enumerate(model.graph.node):
        if not node.name:
            node.name = f"{node.op_type}_{index}"


def to_float16(model: onnx.ModelProto, session: str) -> onnx.ModelProto:
    from onnxconverter_common import float16

    name_unnamed_nodes(model)
    blocked = position_math_nodes(model)
    # Shapes were inferred on load; the converter's own in-memory inference fails above 2 GB.
    converted = float16.convert_float_to_float16(
        model, keep_io_types=False, disable_shape_infer=True, node_block_list=sorted(blocked),
    )
    retarget_float_casts(converted, blocked)
    keep_float32_inputs(converted, FLOAT32_INPUTS.get(session, []))
    return converted


def retarget_float_casts(model: onnx.ModelProto, blocked: set[str]) -> None:
    """The converter retypes a Cast's output to float16 but leaves its `to` at float32."""
    types = {v.name: v.type.tensor_type.elem_type for v in list(model.graph.value_info) + list(model.graph.output)}
    for node in model.graph.node:
        if node.op_type != "Cast" or node.name in blocked or types.get(node.output[0]) != TensorProto.FLOAT16:
            continue
        for attribute in node.attribute:
            if attribute.name == "to" and attribute.i == TensorProto.FLOAT:
                attribute.i = TensorProto.FLOAT16


def to_4bit(model: onnx.ModelProto, block_size: int) -> onnx.ModelProto:
    # onnxruntime >= 1.22 renamed matmul_4bits_quantizer to matmul_nbits_quantizer (PR #24472).
    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer as Quantizer
    except ImportError:
        from onnxruntime.quantization.matmul_4bits_quantizer import MatMul4BitsQuantizer as Quantizer
    quantizer = Quantizer(model, block_size=block_size, is_symmetric=True)
    quantizer.process()
    return quantizer.model.model


def write_variant(source: Path, target: Path, session: str, dtype: str, block_size: int) -> None:
    model = load_with_shapes(source)
    if dtype == "fp16":
        model = to_float16(model, session)
    elif dtype == "q4":
        model = to_4bit(model, block_size)
    elif dtype == "q4f16":
        model = to_4bit(to_float16(model, session), block_size)
    elif dtype != "fp32":
        raise SystemExit(f"unknown dtype {dtype}")
    save_external(model, target)
    del model
    gc.collect()
