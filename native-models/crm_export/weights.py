"""Traces a module to ONNX without its weights, then writes the weights into external data one
tensor at a time straight from the torch parameters.

torch.onnx.export with the weights inside holds the torch model plus a serialised copy of every
weight (and, above 2 GB, a further copy while it splits them out): about 3.5 times the model in
RAM. With export_params=False the weights become graph inputs named after the state dict and
the traced graph is kilobytes; attach_weights then turns each such input into an initializer
whose bytes are written from the parameter's own memory (numpy view, no copy). The transposes
the tracer puts in front of Linear weights are applied while writing, so MatMul nodes see a
constant weight, which the 4-bit quantiser needs.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper

ALIGN = 4096


def _external_tensor(name: str, array: np.ndarray, location: str, offset: int) -> onnx.TensorProto:
    tensor = onnx.TensorProto()
    tensor.name = name
    tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
    tensor.dims.extend(array.shape)
    tensor.data_location = onnx.TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(array.nbytes))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def attach_weights(path: Path, state: dict, expected_inputs: list[str]) -> None:
    model = onnx.load(str(path), load_external_data=False)
    graph = model.graph
    weight_inputs = {i.name for i in graph.input if i.name in state}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    location = path.name + "_data"
    data_path = path.with_name(location)
    folded: list[onnx.NodeProto] = []
    with open(data_path, "wb") as data:

        def write(name: str, array: np.ndarray) -> onnx.TensorProto:
            offset = data.tell()
            padding = (-offset) % ALIGN
            data.write(b"\0" * padding)
            offset += padding
            np.ascontiguousarray(array).tofile(data)
            return _external_tensor(name, array, location, offset)

        for name in sorted(weight_inputs):
            array = state[name].detach().cpu().numpy()
            users = consumers.get(name, [])
            transposes = [n for n in users if n.op_type == "Transpose"]
            for node in transposes:
                perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None) or list(reversed(range(array.ndim)))
                graph.initializer.append(write(node.output[0], array.transpose(perm)))
                folded.append(node)
            if len(transposes) < len(users):
                graph.initializer.append(write(name, array))
    for node in folded:
        graph.node.remove(node)
    kept = [i for i in graph.input if i.name not in weight_inputs]
    expected = set(expected_inputs)
    stray = [i.name for i in kept if i.name not in expected]
    if stray:
        raise SystemExit(f"{path.name}: inputs {stray[:5]} are neither the session's inputs nor module weights")
    del graph.input[:]
    graph.input.extend(kept)
    onnx.save_model(model, str(path))


def export_with_external_weights(module, inputs, path: Path, **export_args) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        # Folding would bake Transpose(weight) into nameless new inputs; attach_weights folds those itself.
        torch.onnx.export(module, inputs, str(path), export_params=False, do_constant_folding=False, dynamo=False, **export_args)
    attach_weights(path, module.state_dict(), export_args["input_names"])
