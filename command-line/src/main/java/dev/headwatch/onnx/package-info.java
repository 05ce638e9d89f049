/**
 * Pretrained transformers in ONNX files: attention layers found in the graph by the pattern BERT-like
 * exports use, weight-only metrics from the initializers, and per-head metrics of the queries, keys and
 * values the model computes when ONNX Runtime runs it on probe tokens ({@code .npy} ids or text through the
 * model's own tokenizer). Every number comes from monitor-core; the result is the {@code CheckpointAnalysis}
 * the reports render.
 */
package dev.headwatch.onnx;
