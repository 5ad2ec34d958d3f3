#!/usr/bin/env python3
"""Writes kernels/src/main/resources/io/panllm/kernels/gemv_int8.ptx.

The kernels are hand-written PTX; this script only repeats the straight-line part (the widening
multiply-adds of one chunk, for four rows) that PTX, having no macros or compile-time loops, would
otherwise need copied by hand. Run it from the repository root after editing, and commit both
files: the PTX is what the driver loads and what a reviewer reads.
"""

OUT = "kernels/src/main/resources/io/panllm/kernels/gemv_int8.ptx"

HEADER = """//
// gemv_int8.ptx: y = W x for one token (decode) with LLM.int8 weights as bitsandbytes stores
// them: W int8 [rows][cols] row-major (no blocks), and one float32 factor per row (SCB / 127,
// computed on the host). x and y are float32. Loaded after common.ptx (block_sum4).
// The repeated straight-line parts were expanded by kernels/tools/gemv_int8.py.
//
//   gemv_i8_rows4         cols a multiple of 16: chunks of 16 weights (one 16-byte load per row)
//   gemv_i8_rows4_narrow  cols a multiple of 4: chunks of 4 weights (one 4-byte load per row),
//                         for the odd widths of small models (stories260K's 172)
//
// Launch shape: four rows per CTA (grid.x = ceil(rows / 4)), block.x a multiple of 32; thread t
// takes chunks t, t + block.x, ...: neighbouring threads read neighbouring bytes of each row
// (coalesced), and each x float4 loaded serves four rows. The CTA sums its threads' partial sums
// (block_sum4: shuffles and one barrier) and thread 0 writes the four rows, scaled.
// Rows past the end read the last row (clamped) and are not written.
//
// An int8 becomes a float without cvt (a slow instruction on the SM): flipping its sign bit gives
// the unsigned q + 128; prmt places that byte under the exponent byte 0x4B (the bit pattern
// 0x4B0000nn is the float 2^23 + nn), and one subtraction of 2^23 + 128 leaves q exactly.
//
"""


def entry(name, weights_per_chunk):
    words = weights_per_chunk // 4          # 32-bit words of codes per row and chunk
    floats = weights_per_chunk              # x values per chunk
    chunk_shift = {16: 4, 4: 2}[weights_per_chunk]
    lines = []
    emit = lines.append
    emit(f""".visible .entry {name}(
    .param .u64 param_weights,
    .param .u64 param_scales,
    .param .u64 param_x,
    .param .u64 param_y,
    .param .u32 param_rows,
    .param .u32 param_cols
)
{{
    .reg .pred  past_end, chunks_done, is_thread0, has_row;
    .reg .u32   rows, cols, row0, row, last_row, tid, threads, chunks, c;
    .reg .b32   w<{4 * words}>, u, bits;
    .reg .u64   weights, scales, x, y, offset, x_addr, base0, base1, base2, base3, addr;
    .reg .f32   acc0, acc1, acc2, acc3, total0, total1, total2, total3, scale, q;
    .reg .f32   xv<{floats}>;

    ld.param.u64        weights, [param_weights];
    ld.param.u64        scales, [param_scales];
    ld.param.u64        x, [param_x];
    ld.param.u64        y, [param_y];
    ld.param.u32        rows, [param_rows];
    ld.param.u32        cols, [param_cols];
    cvta.to.global.u64  weights, weights;
    cvta.to.global.u64  scales, scales;
    cvta.to.global.u64  x, x;
    cvta.to.global.u64  y, y;

    mov.u32             row0, %ctaid.x;
    shl.b32             row0, row0, 2;
    setp.ge.u32         past_end, row0, rows;
    @past_end bra       DONE;
    mov.u32             tid, %tid.x;
    mov.u32             threads, %ntid.x;
    shr.u32             chunks, cols, {chunk_shift};
    sub.u32             last_row, rows, 1;
    // Row r starts at weights + r * cols (one byte per weight).""")
    for r in range(4):
        if r == 0:
            emit("    mov.u32             row, row0;")
        else:
            emit(f"    add.u32             row, row0, {r};")
            emit("    min.u32             row, row, last_row;")
        emit(f"    mul.wide.u32        offset, row, cols;")
        emit(f"    add.u64             base{r}, weights, offset;")
    emit("""    mov.f32             acc0, 0f00000000;
    mov.f32             acc1, 0f00000000;
    mov.f32             acc2, 0f00000000;
    mov.f32             acc3, 0f00000000;
    mov.u32             c, tid;

CHUNK_LOOP:
    setp.ge.u32         chunks_done, c, chunks;
    @chunks_done bra    REDUCE;""")
    emit(f"    // The chunk's codes of the four rows, then its {floats} floats of x: every load before any math.")
    emit(f"    mul.wide.u32        offset, c, {weights_per_chunk};")
    for r in range(4):
        emit(f"    add.u64             addr, base{r}, offset;")
        if words == 4:
            emit(f"    ld.global.nc.v4.b32 {{w{4*r}, w{4*r+1}, w{4*r+2}, w{4*r+3}}}, [addr];")
        else:
            emit(f"    ld.global.nc.b32    w{r}, [addr];")
    emit(f"    mul.wide.u32        offset, c, {4 * weights_per_chunk};")
    emit("    add.u64             x_addr, x, offset;")
    for v in range(floats // 4):
        emit(f"    ld.global.nc.v4.f32 {{xv{4*v}, xv{4*v+1}, xv{4*v+2}, xv{4*v+3}}}, [x_addr+{16 * v}];")
    for r in range(4):
        emit(f"    // row {r}")
        for j in range(words):
            word = f"w{r * words + j}"
            emit(f"    xor.b32             u, {word}, 0x80808080;")
            for k in range(4):
                emit(f"    prmt.b32            bits, u, 0x4B000000, 0x744{k};")
                emit("    mov.b32             q, bits;")
                emit("    sub.f32             q, q, 0f4B000080;")
                emit(f"    fma.rn.f32          acc{r}, q, xv{4 * j + k}, acc{r};")
    emit("""
    add.u32             c, c, threads;
    bra.uni             CHUNK_LOOP;

REDUCE:
    call.uni            (total0, total1, total2, total3), block_sum4, (acc0, acc1, acc2, acc3);
    setp.eq.u32         is_thread0, tid, 0;
    @!is_thread0 bra    DONE;""")
    for r in range(4):
        emit(f"    add.u32             row, row0, {r};")
        emit("    setp.lt.u32         has_row, row, rows;")
        emit("    mul.wide.u32        offset, row, 4;")
        emit("    add.u64             addr, scales, offset;")
        emit("    @has_row ld.global.nc.f32 scale, [addr];")
        emit(f"    mul.f32             total{r}, total{r}, scale;")
        emit("    add.u64             addr, y, offset;")
        emit(f"    @has_row st.global.f32 [addr], total{r};")
    emit("""DONE:
    ret;
}
""")
    return "\n".join(lines)


DEQUANT = """
// dequant_i8_f16: out (rows x cols fp16, row-major) = W, element (r, c) = W[r][c] * scales[r]
// rounded to fp16, for the batched prefill. cols a multiple of 4; one thread per 4 weights (one
// 32-bit load, one 8-byte store), grid-stride.
.visible .entry dequant_i8_f16(
    .param .u64 param_out,
    .param .u64 param_weights,
    .param .u64 param_scales,
    .param .u32 param_rows,
    .param .u32 param_cols
)
{
    .reg .pred  done;
    .reg .u32   rows, cols, quads, total, g, stride, row, r, bits, u;
    .reg .b32   packed0, packed1;
    .reg .u64   out, weights, scales, addr, offset;
    .reg .f32   scale, v0, v1, v2, v3;

    ld.param.u64        out, [param_out];
    ld.param.u64        weights, [param_weights];
    ld.param.u64        scales, [param_scales];
    ld.param.u32        rows, [param_rows];
    ld.param.u32        cols, [param_cols];
    cvta.to.global.u64  out, out;
    cvta.to.global.u64  weights, weights;
    cvta.to.global.u64  scales, scales;
    shr.u32             quads, cols, 2;
    mul.lo.u32          total, quads, rows;
    mov.u32             g, %ctaid.x;
    mov.u32             stride, %ntid.x;
    mov.u32             r, %tid.x;
    mad.lo.u32          g, g, stride, r;
    mov.u32             r, %nctaid.x;
    mul.lo.u32          stride, stride, r;
LOOP:
    setp.ge.u32         done, g, total;
    @done bra           FINISHED;
    div.u32             row, g, quads;
    mul.wide.u32        offset, row, 4;
    add.u64             addr, scales, offset;
    ld.global.nc.f32    scale, [addr];
    mul.wide.u32        offset, g, 4;                // quad g: bytes 4g.. of the row-major codes
    add.u64             addr, weights, offset;
    ld.global.nc.u32    bits, [addr];
    xor.b32             u, bits, 0x80808080;         // q + 128 in each byte
    prmt.b32            r, u, 0x4B000000, 0x7440;
    mov.b32             v0, r;
    prmt.b32            r, u, 0x4B000000, 0x7441;
    mov.b32             v1, r;
    prmt.b32            r, u, 0x4B000000, 0x7442;
    mov.b32             v2, r;
    prmt.b32            r, u, 0x4B000000, 0x7443;
    mov.b32             v3, r;
    sub.f32             v0, v0, 0f4B000080;
    sub.f32             v1, v1, 0f4B000080;
    sub.f32             v2, v2, 0f4B000080;
    sub.f32             v3, v3, 0f4B000080;
    mul.f32             v0, v0, scale;
    mul.f32             v1, v1, scale;
    mul.f32             v2, v2, scale;
    mul.f32             v3, v3, scale;
    cvt.rn.f16x2.f32    packed0, v1, v0;
    cvt.rn.f16x2.f32    packed1, v3, v2;
    mul.wide.u32        offset, g, 8;
    add.u64             addr, out, offset;
    st.global.v2.b32    [addr], {packed0, packed1};
    add.u32             g, g, stride;
    bra.uni             LOOP;
FINISHED:
    ret;
}
"""


def main():
    with open(OUT, "w") as f:
        f.write(HEADER)
        f.write("\n")
        f.write(entry("gemv_i8_rows4", 16))
        f.write("\n")
        f.write(entry("gemv_i8_rows4_narrow", 4))
        f.write(DEQUANT)


if __name__ == "__main__":
    main()
