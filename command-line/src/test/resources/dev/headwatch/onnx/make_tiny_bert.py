"""Writes tiny_bert.onnx, its weights as .npy files, no_attention.onnx and tiny_bert-tokenizer.json (a
word-level tokenizer of the 16 ids), for OnnxModelTest.

tiny_bert.onnx is a 2-layer, 2-head BERT-like encoder (hidden 8, head size 4, vocabulary 16, no layer
norm or feed-forward) exported as PyTorch exports BERT at opset 11: per layer, q/k/v = X W + b ->
Reshape [B, T, 2, 4] -> Transpose, softmax(q k^T * scale + (1 - mask) * -10000) v -> Transpose ->
Reshape [B, T, 8] -> output projection -> residual. Layer 0 reshapes with a constant shape and
divides by 2; layer 1 builds its shapes from Shape/Gather/Concat (as PyTorch does) and multiplies by
0.5. The weights are seeded; the test recomputes everything from the .npy files.

Run: pip install onnx numpy && python3 make_tiny_bert.py
"""
import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

VOCAB, D, H, HS, LAYERS = 16, 8, 2, 4, 2
rng = np.random.default_rng(18)
weights = {"emb": rng.standard_normal((VOCAB, D)).astype(np.float32)}
for l in range(LAYERS):
    for p in "qkvo":
        weights[f"l{l}_w{p}"] = (rng.standard_normal((D, D)) * 0.6).astype(np.float32)
        weights[f"l{l}_b{p}"] = (rng.standard_normal(D) * 0.2).astype(np.float32)
for name, w in weights.items():
    np.save(f"{name}.npy", w)

nodes, inits = [], [numpy_helper.from_array(w, name) for name, w in weights.items()]


def const(name, value):
    nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.array(value), name)))
    return name


def node(op, inputs, output, **attrs):
    nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
    return output


x = node("Gather", ["emb", "input_ids"], "x0")
m = node("Unsqueeze", ["attention_mask"], "mask_u1", axes=[1])
m = node("Unsqueeze", [m], "mask_u2", axes=[2])
m = node("Cast", [m], "mask_f", to=TensorProto.FLOAT)
m = node("Sub", [const("one", np.float32(1)), m], "mask_inv")
ext = node("Mul", [m, const("big", np.float32(-10000))], "mask_ext")


def heads_shape(l, src, tail):
    """Layer 0: a constant shape; layer 1: batch and length from Shape/Gather, as PyTorch exports them."""
    if l == 0:
        return const(f"l{l}_{src}_shape", np.array([0, 0] + tail, np.int64))
    dims = []
    for i in range(2):
        s = node("Shape", [src], f"l{l}_{src}_shape{i}")
        g = node("Gather", [s, const(f"l{l}_{src}_i{i}", np.int64(i))], f"l{l}_{src}_dim{i}", axis=0)
        dims.append(node("Unsqueeze", [g], f"l{l}_{src}_u{i}", axes=[0]))
    tails = [const(f"l{l}_{src}_t{j}", np.array([t], np.int64)) for j, t in enumerate(tail)]
    return node("Concat", dims + tails, f"l{l}_{src}_concat", axis=0)


for l in range(LAYERS):
    proj = {}
    for p in "qkv":
        mm = node("MatMul", [x, f"l{l}_w{p}"], f"l{l}_{p}_mm")
        # bias first, as PyTorch's export writes it, except for v (both orders occur)
        proj[p] = node("Add", [f"l{l}_b{p}", mm] if p != "v" else [mm, f"l{l}_b{p}"], f"l{l}_{p}")
    q4 = node("Transpose", [node("Reshape", [proj["q"], heads_shape(l, proj["q"], [H, HS])], f"l{l}_q_r")],
              f"l{l}_q_t", perm=[0, 2, 1, 3])
    kt = node("Transpose", [node("Reshape", [proj["k"], heads_shape(l, proj["k"], [H, HS])], f"l{l}_k_r")],
              f"l{l}_k_t", perm=[0, 2, 3, 1])
    v4 = node("Transpose", [node("Reshape", [proj["v"], heads_shape(l, proj["v"], [H, HS])], f"l{l}_v_r")],
              f"l{l}_v_t", perm=[0, 2, 1, 3])
    s = node("MatMul", [q4, kt], f"l{l}_scores")
    if l == 0:
        s = node("Div", [s, const(f"l{l}_sqrt", np.float32(2))], f"l{l}_scaled")
    else:
        inits.append(numpy_helper.from_array(np.array(0.5, np.float32), f"l{l}_tau"))
        s = node("Mul", [s, f"l{l}_tau"], f"l{l}_scaled")
    a = node("Softmax", [node("Add", [s, ext], f"l{l}_masked")], f"l{l}_attn", axis=3)
    c = node("Transpose", [node("MatMul", [a, v4], f"l{l}_ctx4")], f"l{l}_ctx_t", perm=[0, 2, 1, 3])
    ctx = node("Reshape", [c, heads_shape(l, c, [D]) if l == 1 else const(f"l{l}_ctx_shape", np.array([0, 0, D], np.int64))],
               f"l{l}_ctx")
    out = node("Add", [f"l{l}_bo", node("MatMul", [ctx, f"l{l}_wo"], f"l{l}_o_mm")], f"l{l}_o")
    x = node("Add", [out, x], f"x{l + 1}")

graph = helper.make_graph(
    nodes, "tiny_bert",
    [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
     helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
    [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["batch", "seq", D])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)], producer_name="make_tiny_bert.py")
model.ir_version = 6
onnx.checker.check_model(model)
onnx.save(model, "tiny_bert.onnx")

w = numpy_helper.from_array(np.eye(4, dtype=np.float32), "w")
plain = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "no_attention",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [w])
plain_model = helper.make_model(plain, opset_imports=[helper.make_opsetid("", 11)], producer_name="make_tiny_bert.py")
plain_model.ir_version = 6
onnx.save(plain_model, "no_attention.onnx")

words = ["[UNK]", "the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "it", "was", "warm", "and", "far", "away"]
tokenizer = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": {"type": "Lowercase"},
             "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None, "decoder": None,
             "model": {"type": "WordLevel", "vocab": {w: i for i, w in enumerate(words)}, "unk_token": "[UNK]"}}
with open("tiny_bert-tokenizer.json", "w") as f:
    json.dump(tokenizer, f, indent=1)
