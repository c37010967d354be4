"""all-MiniLM-L6-v2 as an ONNX graph, written from the packaged safetensors (no torch, no download),
then int8-quantised (dynamic, per channel) for onnxruntime.

The graph is the BERT encoder the numpy path computes (6 layers, 384 wide, exact-erf GELU), with
mean pooling and L2 normalisation inside, so a session returns finished sentence vectors.
Built once per machine into a cache folder (`./scripts/setup` runs `python -m agent.model.embeddings`; a
missing file is built on first use from the local weights in a few seconds), keyed by the weights'
hash and BUILD_VERSION.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

import numpy as np

BUILD_VERSION = 1  # bump when the graph or the quantisation changes: old cached files are then ignored
LAYERS, WIDTH, HEADS = 6, 384, 12


def cache_dir() -> Path:
    """BRIEF_MODEL_CACHE, else $XDG_CACHE_HOME/brief-agent, else ~/.cache/brief-agent."""
    if env := os.environ.get("BRIEF_MODEL_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "brief-agent"


def model_path(weights_sha256: str, quantized: bool) -> Path:
    kind = "int8" if quantized else "fp32"
    return cache_dir() / f"minilm-l6-v2-{weights_sha256[:12]}-v{BUILD_VERSION}-{kind}.onnx"


def build_graph(weights: dict[str, np.ndarray]):
    """The encoder + pooling as an onnx ModelProto (opset 17). Inputs: input_ids [B,N] int64,
    attention_mask [B,N] float32; output: sentence_embedding [B,384] float32, unit length."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    count = [0]

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(kind: str, inputs: list[str], **attrs) -> str:
        count[0] += 1
        out = f"{kind.lower()}_{count[0]}"
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    dim = WIDTH // HEADS
    # embeddings: word + position[:N] + token type 0, then LayerNorm
    words = op("Gather", [const("word_embeddings", weights["embeddings.word_embeddings.weight"]), "input_ids"])
    seq = op("Slice", [op("Shape", ["input_ids"]), const("one", np.array([1], np.int64)),
                       const("two", np.array([2], np.int64))])  # [N], 1-D
    positions = op("Slice", [const("position_embeddings", weights["embeddings.position_embeddings.weight"]),
                             const("zero1", np.array([0], np.int64)), seq, const("axes0b", np.array([0], np.int64))])
    x = op("Add", [op("Add", [words, positions]),
                   const("token_type0", weights["embeddings.token_type_embeddings.weight"][0])])
    x = op("LayerNormalization", [x, const("emb_ln_w", weights["embeddings.LayerNorm.weight"]),
                                  const("emb_ln_b", weights["embeddings.LayerNorm.bias"])], axis=-1, epsilon=1e-12)
    # additive mask [B,1,1,N]: 0 for tokens, -1e9 for padding
    bias = op("Mul", [op("Sub", [const("onef", np.array(1.0, np.float32)), "attention_mask"]),
                      const("neg", np.array(-1e9, np.float32))])
    bias = op("Unsqueeze", [bias, const("axes12", np.array([1, 2], np.int64))])
    split_heads = const("split_heads", np.array([0, 0, HEADS, dim], np.int64))  # Reshape: 0 keeps B and N
    merge_heads = const("merge_heads", np.array([0, 0, WIDTH], np.int64))
    scale = const("scale", np.array(np.sqrt(dim), np.float32))
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}."

        def linear(inp: str, name: str) -> str:
            w = const(f"l{layer}_{name}_w", weights[p + name + ".weight"].T)
            return op("Add", [op("MatMul", [inp, w]), const(f"l{layer}_{name}_b", weights[p + name + ".bias"])])

        def heads(name: str, perm: list[int]) -> str:
            return op("Transpose", [op("Reshape", [linear(x, f"attention.self.{name}"), split_heads])], perm=perm)

        q, k, v = heads("query", [0, 2, 1, 3]), heads("key", [0, 2, 3, 1]), heads("value", [0, 2, 1, 3])
        scores = op("Add", [op("Div", [op("MatMul", [q, k]), scale]), bias])
        attn = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        attn = op("Reshape", [op("Transpose", [attn], perm=[0, 2, 1, 3]), merge_heads])
        h = op("Add", [linear(attn, "attention.output.dense"), x])
        x = op("LayerNormalization", [h, const(f"l{layer}_ln1_w", weights[p + "attention.output.LayerNorm.weight"]),
                                      const(f"l{layer}_ln1_b", weights[p + "attention.output.LayerNorm.bias"])],
               axis=-1, epsilon=1e-12)
        up = linear(x, "intermediate.dense")
        erf = op("Erf", [op("Div", [up, const(f"l{layer}_sqrt2", np.array(np.sqrt(2.0), np.float32))])])
        gelu = op("Mul", [op("Mul", [up, op("Add", [erf, const(f"l{layer}_one", np.array(1.0, np.float32))])]),
                          const(f"l{layer}_half", np.array(0.5, np.float32))])
        h = op("Add", [linear(gelu, "output.dense"), x])
        x = op("LayerNormalization", [h, const(f"l{layer}_ln2_w", weights[p + "output.LayerNorm.weight"]),
                                      const(f"l{layer}_ln2_b", weights[p + "output.LayerNorm.bias"])],
               axis=-1, epsilon=1e-12)
    # mean pooling over real tokens, then L2 normalisation
    mask3 = op("Unsqueeze", ["attention_mask", const("axes2", np.array([2], np.int64))])
    summed = op("ReduceSum", [op("Mul", [x, mask3]), const("axes1", np.array([1], np.int64))], keepdims=0)
    counts = op("Max", [op("ReduceSum", [mask3, const("axes1b", np.array([1], np.int64))], keepdims=0),
                        const("tiny", np.array(1e-9, np.float32))])
    pooled = op("Div", [summed, counts])
    norm = op("Max", [op("ReduceL2", [pooled], axes=[-1], keepdims=1),
                      const("tiny2", np.array(1e-12, np.float32))])
    nodes.append(helper.make_node("Div", [pooled, norm], ["sentence_embedding"]))
    graph = helper.make_graph(
        nodes, "minilm_l6_v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "tokens"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", WIDTH])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="brief-agent")
    model.ir_version = 8  # readable by every onnxruntime since 1.11
    return model


def build(weights: dict[str, np.ndarray], weights_sha256: str, quantized: bool = True) -> Path:
    """Write the (quantised) model into the cache folder, atomically and once across processes."""
    import onnx

    target = model_path(weights_sha256, quantized)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():  # another process built it while we waited
            return target
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            fp32 = Path(tmp) / "fp32.onnx"
            onnx.save(build_graph(weights), str(fp32))
            if quantized:
                import logging

                from onnxruntime.quantization import QuantType, quantize_dynamic

                out = Path(tmp) / "int8.onnx"
                root = logging.getLogger()
                level, root.level = root.level, logging.ERROR  # it advises "pre-processing" on the root logger
                try:
                    quantize_dynamic(fp32, out, per_channel=True, weight_type=QuantType.QInt8,
                                     op_types_to_quantize=["MatMul"])
                finally:
                    root.setLevel(level)
            else:
                out = fp32
            os.replace(out, target)
    return target
