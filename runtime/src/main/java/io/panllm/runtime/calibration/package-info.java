/**
 * Calibration: statistics of a model's activations on a text, and the importance matrix (imatrix)
 * that llama.cpp's quantizers weight their error with, in llama.cpp's two file formats.
 */
package io.panllm.runtime.calibration;
