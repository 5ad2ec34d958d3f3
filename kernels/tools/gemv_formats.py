#!/usr/bin/env python3
"""Writes kernels/src/main/resources/io/panllm/kernels/gemv_formats.ptx.

The kernels are hand-written PTX; this script only repeats the straight-line parts (the loads of
one chunk, then its 8 to 32 multiply-adds) that PTX, having no macros or compile-time loops,
would otherwise need copied by hand. Run it from the repository root after editing, and commit
both files: the PTX is what the driver loads and what a reviewer reads.
"""
import re
import struct

OUT = "kernels/src/main/resources/io/panllm/kernels/gemv_formats.ptx"


def f32(value):
    return "0f%08X" % struct.unpack("<I", struct.pack("<f", value))[0]


IQ4_NL = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]
NF4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
       -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
       0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
       0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]
FP4 = [0.0, 0.005208333333, 0.66666667, 1.0, 0.33333333, 0.5, 0.16666667, 0.25,
       -0.0, -0.005208333333, -0.66666667, -1.0, -0.33333333, -0.5, -0.16666667, -0.25]

HEADER = """//
// gemv_formats.ptx: y = W x for one token (decode) for the GGUF block types besides Q4_0, Q8_0
// and F16 (those are in gemv.ptx): BF16, IQ4_NL, Q4_K, Q5_K, Q6_K, and panllm's NF4 / FP4 extension
// types. W is read as stored in the file (layouts: gguf-io's io.panllm.tensor.GgmlType, and
// llama.cpp's ggml-common.h), x and y are float32. Loaded after common.ptx (warp_sum).
// The repeated straight-line parts were expanded by kernels/tools/gemv_formats.py.
//
// Launch shape (all kernels): one warp per row, 4 warps per CTA: block.x = 128, grid.x =
// ceil(rows / 4). Lane l of a row's warp takes chunks l, l + 32, l + 64, ... of the row; a chunk
// is 8 consecutive weights, so a warp reads 256 consecutive weights and 1 KB of x per step: its x
// loads and weight bytes are coalesced (v1 of these kernels gave each lane 32 weights: lanes 128
// bytes apart in x, 32 L1 wavefronts per float4 load, 11-22% of the DRAM bandwidth; NOTES.md).
// Each chunk's loads (its weight bytes and its two float4s of x) are issued before its arithmetic; the products accumulate in fp32, and the warp sums its lanes
// with shuffles (no shared memory, no barrier, except the table kernels' one at the start).
// cols must be a multiple of the block size (8 for BF16); the Java side checks it.
//
// Alignment: a row starts at row * row_bytes from a 16-byte aligned buffer. BF16 rows (16 bytes
// per 8 weights) and Q4_K/Q5_K super-blocks (144/176 bytes) keep 16-byte alignment, so they are read as
// 16-byte vectors; IQ4_NL (18), NF4/FP4 (34) and Q6_K (210) blocks are only 2-byte aligned and
// are read as 16-bit words.
//
// Small integers become floats without cvt where it pays (as in gemv.ptx): the byte goes into
// the low mantissa bits of 2^23 (0x4B0000nn is the float 8388608 + nn) and one subtraction
// removes 2^23 and the zero point. The non-linear codes of NF4 and FP4 are looked up in a
// 16-float table that each CTA copies from constant memory into shared memory first; IQ4_NL's
// integer kvalues in registers, with prmt.
//
"""


class Kernel:
    def __init__(self, name):
        self.name = name
        self.lines = []
        self.rows = 1

    def emit(self, line=""):
        self.lines.append(line)

    def op(self, text, comment=None):
        parts = text.split(None, 1)
        line = "    %-19s %s" % (parts[0], parts[1] if len(parts) > 1 else "")
        if comment:
            line = "%-64s // %s" % (line, comment)
        self.emit(line.rstrip())



def copy_table(k, table, temp, leave="warp may exit"):
    """Threads 0..15 copy a 16-float code table from constant into shared memory, then a barrier.

    Uses registers p_table, table_addr, table_slot, lane (as a temporary) and the u64 temp."""
    k.emit("    // threads 0..15 copy the code table into shared memory (before any %s)" % leave)
    k.op("setp.lt.u32 p_table, tid, 16;")
    k.op("mul.wide.u32 table_addr, tid, 4;")
    k.op("mov.u64 %s, %s;" % (temp, table))
    k.op("add.u64 table_addr, table_addr, %s;" % temp)
    k.op("shl.b32 table_slot, tid, 2;")
    k.op("mov.u32 lane, code_table;")
    k.op("add.u32 table_slot, table_slot, lane;")
    k.op("@p_table ld.const.f32 table_value, [table_addr];")
    k.op("@p_table st.shared.f32 [table_slot], table_value;")
    k.op("bar.sync 0;")

class Rows4Kernel(Kernel):
    """The same per-chunk code for four rows per CTA (v3 of these kernels, NOTES.md).

    The format function emits its one-row body as usual; this records it in two parts, the loads
    of a chunk's weight bytes ("pre", before load_x) and the arithmetic ("post"), and writes them
    once per row with the row's own registers (every register the format declares, plus acc,
    row_ptr and offset, renamed name_r), all four rows' loads first, then the chunk's x once,
    then the four rows' arithmetic: x is read once for four rows and 4x the weight bytes are in
    flight per thread. The CTA's threads split the row's chunks (thread t: chunks t, t + block.x,
    ...), as gemv.ptx's rows4 kernels do, so a matrix keeps one warp per row of parallelism
    (four rows per warp, tried first, left too few warps on the GPU at the 1B shapes: 3x slower).
    """

    def __init__(self, name):
        super().__init__(name + "_rows4")
        self.rows = 4
        self.phase = "head"
        self.pre = []
        self.post = []

    def op(self, text, comment=None):
        if self.phase == "head":
            super().op(text, comment)
        else:
            (self.pre if self.phase == "pre" else self.post).append((text, comment))

    def begin(self, block_size, block_bytes, chunk, table, extra_regs):
        self.block_size, self.block_bytes, self.chunk, self.table = block_size, block_bytes, chunk, table
        self.declarations = []   # (type, [names])
        for line in extra_regs.splitlines():
            m = re.match(r"\s*\.reg\s+(\.\w+)\s+(.*);", line)
            names = []
            for item in m.group(2).split(","):
                item = item.strip()
                vec = re.match(r"(\w+)<(\d+)>", item)
                names += ["%s%d" % (vec.group(1), i) for i in range(int(vec.group(2)))] if vec else [item]
            self.declarations.append((m.group(1), names))
        self.per_row = {n for _, names in self.declarations for n in names} | {"acc", "row_ptr", "offset"}
        self.phase = "pre"

    def renamed(self, text, r):
        guard = ""
        if text.startswith("@"):
            guard, text = text.split(None, 1)
        parts = text.split(None, 1)
        operands = parts[1] if len(parts) > 1 else ""
        operands = re.sub(r"\b([A-Za-z_]\w*)\b",
                          lambda m: "%s_%d" % (m.group(1), r) if m.group(1) in self.per_row else m.group(1), operands)
        if guard:
            guard = re.sub(r"\b(\w+)\b", lambda m: "%s_%d" % (m.group(1), r) if m.group(1) in self.per_row else m.group(1), guard)
            return "%s %s %s" % (guard, parts[0], operands)
        return "%s %s" % (parts[0], operands)

    def finish(self):
        k = self
        log_block = self.block_size.bit_length() - 1
        log_chunk = self.chunk.bit_length() - 1
        self.phase = "head"
        k.emit("// Four rows per CTA: rows 4 ctaid.x .. 4 ctaid.x + 3, grid.x = ceil(rows / 4), block.x a multiple of")
        k.emit("// 32; thread t takes chunks t, t + block.x, ... Rows past the end read the last row and are not written.")
        k.emit(".visible .entry %s(.param .u64 param_weights, .param .u64 param_x, .param .u64 param_y," % k.name)
        k.emit("        .param .u32 param_rows, .param .u32 param_cols)")
        k.emit("{")
        k.emit("    .reg .pred  p_exit, p_done, p_lane0, p_table, p_row;")
        k.emit("    .reg .u32   tid, threads, lane, row, row0, last_row, rows, cols, chunk, chunks, blocks_per_row, table_slot;")
        k.emit("    .reg .u64   weights, x, y, x_ptr, table_addr, row_offset;")
        k.emit("    .reg .f32   x<%d>, table_value;" % self.chunk)
        for r in range(4):
            k.emit("    .reg .u64   row_ptr_%d, offset_%d;" % (r, r))
            k.emit("    .reg .f32   acc_%d;" % r)
            for ty, names in self.declarations:
                k.emit("    .reg %-6s %s;" % (ty, ", ".join("%s_%d" % (n, r) for n in names)))
        k.emit()
        k.op("ld.param.u64 weights, [param_weights];")
        k.op("ld.param.u64 x, [param_x];")
        k.op("ld.param.u64 y, [param_y];")
        k.op("ld.param.u32 rows, [param_rows];")
        k.op("ld.param.u32 cols, [param_cols];")
        k.op("cvta.to.global.u64 weights, weights;")
        k.op("cvta.to.global.u64 x, x;")
        k.op("cvta.to.global.u64 y, y;")
        k.op("mov.u32 tid, %tid.x;")
        if self.table:
            copy_table(k, self.table, "row_offset")
        k.op("mov.u32 threads, %ntid.x;")
        k.op("mov.u32 row0, %ctaid.x;")
        k.op("shl.b32 row0, row0, 2;", "first of this CTA's 4 rows")
        k.op("setp.ge.u32 p_exit, row0, rows;")
        k.op("@p_exit bra.uni EXIT;", "the whole CTA leaves together")
        k.op("sub.u32 last_row, rows, 1;")
        k.op("shr.u32 blocks_per_row, cols, %d;" % log_block)
        for r in range(4):
            k.op("add.u32 row, row0, %d;" % r)
            k.op("min.u32 row, row, last_row;")
            k.op("mul.wide.u32 row_offset, row, blocks_per_row;")
            k.op("mad.lo.u64 row_ptr_%d, row_offset, %d, weights;" % (r, self.block_bytes), "row * row_bytes")
            k.op("mov.f32 acc_%d, 0f00000000;" % r)
        k.op("shr.u32 chunks, cols, %d;" % log_chunk, "chunks of %d weights" % self.chunk)
        k.op("mov.u32 chunk, tid;")
        k.emit("LOOP:")
        k.op("setp.ge.u32 p_done, chunk, chunks;")
        k.op("@p_done bra REDUCE;")
        for r in range(4):
            k.emit("    // row %d: this chunk's weight bytes" % r)
            for text, comment in self.pre:
                k.op(self.renamed(text, r), comment if r == 0 else None)
        k.op("mul.wide.u32 x_ptr, chunk, %d;" % (4 * self.chunk), "x of this chunk: %d floats, for the 4 rows" % self.chunk)
        k.op("add.u64 x_ptr, x_ptr, x;")
        for i in range(self.chunk // 4):
            k.op("ld.global.nc.v4.f32 {x%d, x%d, x%d, x%d}, [x_ptr+%d];" % (4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3, 16 * i))
        for r in range(4):
            k.emit("    // row %d: the arithmetic" % r)
            for text, comment in self.post:
                k.op(self.renamed(text, r), comment if r == 0 else None)
        k.op("add.u32 chunk, chunk, threads;")
        k.op("bra.uni LOOP;")
        k.emit("REDUCE:")
        k.op("call.uni (acc_0, acc_1, acc_2, acc_3), block_sum4, (acc_0, acc_1, acc_2, acc_3);", "valid in thread 0")
        k.op("setp.eq.u32 p_lane0, tid, 0;")
        k.op("@!p_lane0 bra.uni EXIT;")
        for r in range(4):
            k.op("add.u32 row, row0, %d;" % r)
            k.op("setp.lt.u32 p_row, row, rows;")
            k.op("mul.wide.u32 row_offset, row, 4;")
            k.op("add.u64 row_offset, row_offset, y;")
            k.op("@p_row st.global.f32 [row_offset], acc_%d;" % r)
        k.emit("EXIT:")
        k.op("ret;")
        k.emit("}")


class DequantKernel(Rows4Kernel):
    """The format's chunk code turned into a dequantization to fp16 for the batched prefill.

    Same recording as Rows4Kernel; the arithmetic is rewritten so that the 8 weights of the chunk
    land in v0..v7 instead of being dotted with x: "sum += value * x_e" becomes "v_e = value",
    the block scale applied to the sum ("acc += scale * sum") is applied to each v_e, and Q4_K's
    "acc -= min * sum(x)" subtracts min from each v_e. One thread per chunk of 8 weights; the
    chunk's 8 halves are stored as one 16-byte vector at out[row][8 chunk].
    """

    def __init__(self, name):
        Kernel.__init__(self, "dequant_" + name[len("gemv_"):] + "_f16")
        self.rows = 4   # record, as Rows4Kernel does
        self.phase = "head"
        self.pre = []
        self.post = []

    def dequantized(self, text):
        """The arithmetic op rewritten to produce values; a list of ops."""
        m = re.match(r"fma\.rn\.f32 sum, value, x(\d+), sum;$", text)
        if m:
            return ["mov.f32 v%s, value;" % m.group(1)]
        if re.match(r"add\.f32 sum_x, sum_x, x\d+;$", text) or re.match(r"mov\.f32 sum(_x)?, 0f00000000;$", text):
            return []
        m = re.match(r"fma\.rn\.f32 acc, (\w+), sum, acc;$", text)
        if m:
            return ["mul.f32 v%d, v%d, %s;" % (e, e, m.group(1)) for e in range(8)]
        if text == "fma.rn.f32 acc, min, sum_x, acc;":
            return ["add.f32 v%d, v%d, min;" % (e, e) for e in range(8)]
        m = re.match(r"fma\.rn\.f32 acc, (\w+), x(\d+), acc;$", text)
        if m:
            return ["mov.b32 v%s, %s;" % (m.group(2), m.group(1))]
        assert not re.search(r"\b(x\d+|acc|sum|sum_x)\b", text), "no dequant rule for: " + text
        return [text]

    def finish(self):
        k = self
        log_chunk = self.chunk.bit_length() - 1
        log_block = self.block_size.bit_length() - 1
        self.phase = "head"
        k.emit("// Dequantization for the batched prefill: out (rows x cols fp16, row-major) = W. One thread per")
        k.emit("// chunk of 8 weights, grid-stride over rows * cols / 8 chunks.")
        k.emit(".visible .entry %s(.param .u64 param_out, .param .u64 param_weights, .param .u32 param_rows," % k.name)
        k.emit("        .param .u32 param_cols)")
        k.emit("{")
        k.emit("    .reg .pred  p_done, p_table;")
        k.emit("    .reg .u32   tid, lane, row, rows, cols, chunk, chunks, blocks_per_row, table_slot, g, total, stride;")
        k.emit("    .reg .b32   packed<4>;")
        k.emit("    .reg .u64   weights, out, row_ptr, offset, table_addr, out_ptr;")
        k.emit("    .reg .f32   v<8>, table_value;")
        for ty, names in self.declarations:
            k.emit("    .reg %-6s %s;" % (ty, ", ".join(names)))
        k.emit()
        k.op("ld.param.u64 out, [param_out];")
        k.op("ld.param.u64 weights, [param_weights];")
        k.op("ld.param.u32 rows, [param_rows];")
        k.op("ld.param.u32 cols, [param_cols];")
        k.op("cvta.to.global.u64 out, out;")
        k.op("cvta.to.global.u64 weights, weights;")
        k.op("mov.u32 tid, %tid.x;")
        if self.table:
            copy_table(k, self.table, "offset", "thread may leave")
        k.op("shr.u32 chunks, cols, %d;" % log_chunk, "chunks of %d weights per row" % self.chunk)
        k.op("shr.u32 blocks_per_row, cols, %d;" % log_block)
        k.op("mul.lo.u32 total, chunks, rows;")
        k.op("mov.u32 g, %ctaid.x;")
        k.op("mov.u32 stride, %ntid.x;")
        k.op("mad.lo.u32 g, g, stride, tid;")
        k.op("mov.u32 lane, %nctaid.x;")
        k.op("mul.lo.u32 stride, stride, lane;")
        k.emit("LOOP:")
        k.op("setp.ge.u32 p_done, g, total;")
        k.op("@p_done bra.uni EXIT;")
        k.op("div.u32 row, g, chunks;")
        k.op("rem.u32 chunk, g, chunks;")
        k.op("mul.wide.u32 offset, row, blocks_per_row;")
        k.op("mad.lo.u64 row_ptr, offset, %d, weights;" % self.block_bytes, "row * row_bytes")
        for text, comment in self.pre:
            k.op(text, comment)
        for text, comment in self.post:
            for line in self.dequantized(text):
                k.op(line, comment)
        for i in range(4):
            k.op("cvt.rn.f16x2.f32 packed%d, v%d, v%d;" % (i, 2 * i + 1, 2 * i), "v%d in the low half" % (2 * i))
        k.op("mul.wide.u32 out_ptr, g, 16;", "chunk g of the row-major output: 8 halves")
        k.op("add.u64 out_ptr, out_ptr, out;")
        k.op("st.global.v4.b32 [out_ptr], {packed0, packed1, packed2, packed3};")
        k.op("add.u32 g, g, stride;")
        k.op("bra.uni LOOP;")
        k.emit("EXIT:")
        k.op("ret;")
        k.emit("}")


def new_kernel(name, rows):
    """rows: 1 (the GEMV, v2), 4 (its four-rows-per-CTA version, v3) or "dequant"."""
    if rows == "dequant":
        return DequantKernel(name)
    return Rows4Kernel(name) if rows == 4 else Kernel(name)


def prologue(k, block_size, block_bytes, chunk, table=None, extra_regs=""):
    if k.rows == 4:
        k.begin(block_size, block_bytes, chunk, table, extra_regs)
        return
    log_block = block_size.bit_length() - 1
    log_chunk = chunk.bit_length() - 1
    k.emit(".visible .entry %s(.param .u64 param_weights, .param .u64 param_x, .param .u64 param_y," % k.name)
    k.emit("        .param .u32 param_rows, .param .u32 param_cols)")
    k.emit("{")
    k.emit("    .reg .pred  p_exit, p_done, p_lane0, p_table;")
    k.emit("    .reg .u32   tid, lane, warp, row, rows, cols, chunk, chunks, blocks_per_row, table_slot;")
    k.emit("    .reg .u64   weights, x, y, row_ptr, x_ptr, offset, table_addr;")
    k.emit("    .reg .f32   acc, x<%d>, table_value;" % chunk)
    if extra_regs:
        k.emit(extra_regs)
    k.emit()
    k.op("ld.param.u64 weights, [param_weights];")
    k.op("ld.param.u64 x, [param_x];")
    k.op("ld.param.u64 y, [param_y];")
    k.op("ld.param.u32 rows, [param_rows];")
    k.op("ld.param.u32 cols, [param_cols];")
    k.op("cvta.to.global.u64 weights, weights;")
    k.op("cvta.to.global.u64 x, x;")
    k.op("cvta.to.global.u64 y, y;")
    k.op("mov.u32 tid, %tid.x;")
    if table:
        copy_table(k, table, "offset")
    k.op("shr.u32 warp, tid, 5;")
    k.op("and.b32 lane, tid, 31;")
    k.op("mov.u32 row, %ctaid.x;")
    k.op("mad.lo.u32 row, row, 4, warp;", "4 rows (warps) per CTA")
    k.op("setp.ge.u32 p_exit, row, rows;")
    k.op("@p_exit bra.uni EXIT;", "the whole warp leaves together")
    k.op("shr.u32 blocks_per_row, cols, %d;" % log_block)
    k.op("mul.wide.u32 offset, row, blocks_per_row;")
    k.op("mad.lo.u64 row_ptr, offset, %d, weights;" % block_bytes, "row * row_bytes")
    k.op("shr.u32 chunks, cols, %d;" % log_chunk, "chunks of %d weights" % chunk)
    k.op("mov.f32 acc, 0f00000000;")
    k.op("mov.u32 chunk, lane;")
    k.emit("LOOP:")
    k.op("setp.ge.u32 p_done, chunk, chunks;")
    k.op("@p_done bra REDUCE;")


def load_x(k, chunk):
    if k.rows == 4:
        k.phase = "post"
        return
    k.op("mul.wide.u32 x_ptr, chunk, %d;" % (4 * chunk), "x of this chunk: %d floats" % chunk)
    k.op("add.u64 x_ptr, x_ptr, x;")
    for i in range(chunk // 4):
        k.op("ld.global.nc.v4.f32 {x%d, x%d, x%d, x%d}, [x_ptr+%d];" % (4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3, 16 * i))


def epilogue(k):
    if k.rows == 4:
        k.finish()
        return
    k.op("add.u32 chunk, chunk, 32;")
    k.op("bra.uni LOOP;")
    k.emit("REDUCE:")
    k.op("call.uni (acc), warp_sum, (acc);")
    k.op("setp.eq.u32 p_lane0, lane, 0;")
    k.op("mul.wide.u32 offset, row, 4;")
    k.op("add.u64 offset, offset, y;")
    k.op("@p_lane0 st.global.f32 [offset], acc;")
    k.emit("EXIT:")
    k.op("ret;")
    k.emit("}")


def bf16(rows=1):
    k = new_kernel("gemv_bf16", rows)
    k.emit("// BF16: [rows][cols] bfloat16, the top half of a float32: word i of a 16-byte load holds")
    k.emit("// elements 2i (low half, shifted up) and 2i + 1 (high half, masked).")
    prologue(k, 8, 16, 8, extra_regs="    .reg .b32   w<4>, lo<4>, hi<4>;\n    .reg .u64   addr;")
    k.op("mul.wide.u32 addr, chunk, 16;")
    k.op("add.u64 addr, addr, row_ptr;")
    k.op("ld.global.nc.v4.u32 {w0, w1, w2, w3}, [addr];")
    load_x(k, 8)
    for i in range(4):
        k.op("shl.b32 lo%d, w%d, 16;" % (i, i))
        k.op("and.b32 hi%d, w%d, 0xFFFF0000;" % (i, i))
    for i in range(4):
        k.op("fma.rn.f32 acc, lo%d, x%d, acc;" % (i, 2 * i))
        k.op("fma.rn.f32 acc, hi%d, x%d, acc;" % (i, 2 * i + 1))
    epilogue(k)
    return k


def table_dot(k, word, nibble_bits):
    """sum += table[nibble] * x[element] for each (bit position, element) of a 16-bit word."""
    for bit, element in nibble_bits:
        k.op("bfe.u32 code, h%d, %s, 4;" % (word, bit))
        k.op("shl.b32 code, code, 2;")
        k.op("add.u32 code, code, table_base;")
        k.op("ld.shared.f32 value, [code];")
        k.op("fma.rn.f32 sum, value, x%d, sum;" % element)


def bytes_dot(k, word, zero, first, comment, sum_x=False):
    """sum += (byte j of word - zero) * x[first + j] for j = 0..3, each byte made a float by the
    2^23 trick (prmt under the exponent byte 0x4B, then one subtraction of 2^23 + zero); with
    sum_x also sum_x += x[first + j] (Q4_K's min term)."""
    for j in range(4):
        k.op("prmt.b32 f, %s, 0x4B000000, 0x744%d;" % (word, j))
        k.op("sub.f32 value, f, %s;" % f32(8388608.0 + zero), comment if j == 0 else None)
        k.op("fma.rn.f32 sum, value, x%d, sum;" % (first + j))
        if sum_x:
            k.op("add.f32 sum_x, sum_x, x%d;" % (first + j))


def iq4_nl(rows=1):
    k = new_kernel("gemv_iq4_nl", rows)
    k.emit("// IQ4_NL: blocks of 32 weights, 18 bytes: fp16 d, then qs[16]; element j is the low nibble")
    k.emit("// of qs[j] for j < 16 and the high nibble of qs[j - 16] otherwise, its value")
    k.emit("// d * kvalues_iq4nl[nibble]. Chunk q (0..3) of a block = elements 8q..8q+7: the low (q < 2)")
    k.emit("// or high (q >= 2) nibbles of qs[8 (q % 2) .. 8 (q % 2) + 7], read as four 16-bit words.")
    k.emit("// The table is looked up in registers with prmt (llama.cpp's trick): kvalues + 128 as 16")
    k.emit("// bytes in four words; one prmt picks four entries among the low eight by (nibble & 7), one")
    k.emit("// among the high eight, and a third takes each byte from the one or the other by bit 3.")
    k.emit("// (v2 looked the table up in shared memory, one load per weight.)")
    prologue(k, 32, 18, 8,
             extra_regs="    .reg .b16   d_bits;\n    .reg .u32   h<4>, block, quarter, low, shift, t, sel, pick, lo8, hi8;\n"
                        "    .reg .b32   f, table<4>;\n    .reg .u64   addr;\n    .reg .f32   d, sum, value;")
    k.op("shr.u32 block, chunk, 2;")
    k.op("and.b32 quarter, chunk, 3;")
    k.op("mul.wide.u32 addr, block, 18;")
    k.op("add.u64 addr, addr, row_ptr;")
    k.op("ld.global.nc.b16 d_bits, [addr];")
    k.op("and.b32 low, quarter, 1;")
    k.op("mul.wide.u32 offset, low, 8;")
    k.op("add.u64 offset, offset, addr;", "qs[8 (q % 2)] is at +2")
    for i in range(4):
        k.op("ld.global.nc.u16 h%d, [offset+%d];" % (i, 2 + 2 * i))
    load_x(k, 8)
    table = [v + 128 for v in IQ4_NL]
    for w in range(4):
        word = table[4 * w] | table[4 * w + 1] << 8 | table[4 * w + 2] << 16 | table[4 * w + 3] << 24
        k.op("mov.b32 table%d, 0x%08X;" % (w, word), "kvalues_iq4nl[%d..%d] + 128" % (4 * w, 4 * w + 3) if w == 0 else None)
    k.op("shr.u32 shift, quarter, 1;")
    k.op("shl.b32 shift, shift, 2;", "0: low nibbles, 4: high nibbles")
    k.op("cvt.f32.f16 d, d_bits;")
    k.op("mov.f32 sum, 0f00000000;")
    for i in range(2):
        k.op("prmt.b32 t, h%d, h%d, 0x5410;" % (2 * i, 2 * i + 1), "qs bytes %d..%d of the chunk" % (4 * i, 4 * i + 3))
        k.op("shr.u32 t, t, shift;")
        k.op("and.b32 t, t, 0x0F0F0F0F;", "four nibbles, one per byte")
        k.op("shr.u32 sel, t, 4;")
        k.op("or.b32 sel, sel, t;")
        k.op("prmt.b32 sel, sel, sel, 0x2220;", "the four nibbles in the low 16 bits")
        k.op("and.b32 pick, sel, 0x8888;")
        k.op("shr.u32 pick, pick, 1;")
        k.op("or.b32 pick, pick, 0x3210;", "byte k from lo8 (k) or hi8 (k + 4)")
        k.op("and.b32 sel, sel, 0x7777;")
        k.op("prmt.b32 lo8, table0, table1, sel;")
        k.op("prmt.b32 hi8, table2, table3, sel;")
        k.op("prmt.b32 t, lo8, hi8, pick;", "kvalues[nibble] + 128, four bytes")
        bytes_dot(k, "t", 128, 4 * i, "kvalue")
    k.op("fma.rn.f32 acc, d, sum, acc;")
    epilogue(k)
    return k


def bnb4(name, table, rows=1):
    k = new_kernel("gemv_" + name, rows)
    k.emit("// %s (panllm extension, bitsandbytes layout): blocks of 64 weights, 34 bytes: fp16 absmax," % name.upper())
    k.emit("// then 32 bytes of codes, element 2k in the HIGH nibble of byte k and 2k + 1 in the low one;")
    k.emit("// value absmax * table[code]. Chunk q (0..7) of a block = code bytes 4q..4q+3, read as two")
    k.emit("// 16-bit words; word i holds elements 4i (bits 4-7), 4i+1 (0-3), 4i+2 (12-15), 4i+3 (8-11).")
    prologue(k, 64, 34, 8, table=table,
             extra_regs="    .reg .b16   d_bits;\n    .reg .u32   h<2>, code, table_base, block, part;\n"
                        "    .reg .u64   addr;\n    .reg .f32   d, sum, value;")
    k.op("mov.u32 table_base, code_table;")
    k.op("shr.u32 block, chunk, 3;")
    k.op("and.b32 part, chunk, 7;")
    k.op("mul.wide.u32 addr, block, 34;")
    k.op("add.u64 addr, addr, row_ptr;")
    k.op("ld.global.nc.b16 d_bits, [addr];", "absmax")
    k.op("mul.wide.u32 offset, part, 4;")
    k.op("add.u64 offset, offset, addr;")
    k.op("ld.global.nc.u16 h0, [offset+2];")
    k.op("ld.global.nc.u16 h1, [offset+4];")
    load_x(k, 8)
    k.op("cvt.f32.f16 d, d_bits;")
    k.op("mov.f32 sum, 0f00000000;")
    for i in range(2):
        table_dot(k, i, [(4, 4 * i), (0, 4 * i + 1), (12, 4 * i + 2), (8, 4 * i + 3)])
    k.op("fma.rn.f32 acc, d, sum, acc;")
    epilogue(k)
    return k


def q4_k(high_bits=False, rows=1):
    """Q4_K, or with high_bits Q5_K: the same plus qh[32] whose bit s of byte l is bit 4 of q."""
    k = new_kernel("gemv_q5_k" if high_bits else "gemv_q4_k", rows)
    if high_bits:
        k.emit("// Q5_K: super-blocks of 256 weights, 176 bytes: fp16 d, fp16 dmin, scales[12], qh[32], qs[128].")
        k.emit("// As Q4_K (below), with a fifth bit per weight: bit s of qh[l] is bit 4 of element l of")
        k.emit("// sub-block s; value d sc q - dmin m, q = 0..31.")
    else:
        k.emit("// Q4_K: super-blocks of 256 weights, 144 bytes: fp16 d, fp16 dmin, scales[12], qs[128].")
        k.emit("// Sub-block s (32 weights, s = 0..7) has a 6-bit scale sc and min m packed in scales[12]")
        k.emit("// (ggml's get_scale_min_k4): s < 4: sc = q[s] & 63, m = q[s+4] & 63; s >= 4:")
        k.emit("// sc = (q[s+4] & 15) | (q[s-4] >> 6) << 4, m = (q[s+4] >> 4) | (q[s] >> 6) << 4. Its quants are")
        k.emit("// the low (s even) or high (s odd) nibbles of qs[32 (s/2) .. 32 (s/2) + 31], in order; value")
        k.emit("// d sc q - dmin m.")
    k.emit("// Chunk = 8 weights l = 8p..8p+7 (p = 0..3) of sub-block s: d sc sum(q x) - dmin m sum(x).")
    qs_offset = 48 if high_bits else 16
    prologue(k, 256, 176 if high_bits else 144, 8,
             extra_regs="    .reg .pred  p_high;\n"
                        "    .reg .b16   d_bits, dmin_bits;\n"
                        "    .reg .u32   super, sub, part, shift, head, q_s, q_s4, q_low, sc, m, sc_hi, m_hi, t, q<2>, w, qh<2>, hb;\n"
                        "    .reg .b32   f;\n"
                        "    .reg .u64   base, addr;\n    .reg .f32   d, dmin, scale, min, sum, sum_x, value;")
    k.op("shr.u32 super, chunk, 5;")
    k.op("bfe.u32 sub, chunk, 2, 3;")
    k.op("and.b32 part, chunk, 3;")
    k.op("mul.wide.u32 base, super, %d;" % (176 if high_bits else 144))
    k.op("add.u64 base, base, row_ptr;")
    k.op("ld.global.nc.u32 head, [base];", "d | dmin << 16")
    k.op("cvt.u64.u32 addr, sub;")
    k.op("add.u64 addr, addr, base;")
    k.op("ld.global.nc.u8 q_s, [addr+4];", "scales[s]")
    k.op("ld.global.nc.u8 q_s4, [addr+8];", "scales[s + 4]")
    k.op("and.b32 t, sub, 3;")
    k.op("cvt.u64.u32 addr, t;")
    k.op("add.u64 addr, addr, base;")
    k.op("ld.global.nc.u8 q_low, [addr+4];", "scales[s & 3] = scales[s - 4] for s >= 4")
    k.op("shr.u32 t, sub, 1;")
    k.op("shl.b32 t, t, 5;")
    k.op("mad.lo.u32 t, part, 8, t;", "32 (s / 2) + 8 p")
    k.op("cvt.u64.u32 addr, t;")
    k.op("add.u64 addr, addr, base;")
    k.op("ld.global.nc.v2.u32 {q0, q1}, [addr+%d];" % qs_offset, "qs[32 (s/2) + 8 p ..], 8-byte aligned")
    if high_bits:
        k.op("mul.wide.u32 addr, part, 8;")
        k.op("add.u64 addr, addr, base;")
        k.op("ld.global.nc.v2.u32 {qh0, qh1}, [addr+16];", "qh[8 p ..]")
    load_x(k, 8)
    k.op("and.b32 sc, q_s, 63;")
    k.op("and.b32 m, q_s4, 63;")
    k.op("and.b32 sc_hi, q_s4, 15;")
    k.op("shr.u32 t, q_low, 6;")
    k.op("bfi.b32 sc_hi, t, sc_hi, 4, 2;", "(q[s+4] & 15) | (q[s-4] >> 6) << 4")
    k.op("shr.u32 m_hi, q_s4, 4;")
    k.op("shr.u32 t, q_s, 6;")
    k.op("bfi.b32 m_hi, t, m_hi, 4, 2;", "(q[s+4] >> 4) | (q[s] >> 6) << 4")
    k.op("setp.ge.u32 p_high, sub, 4;")
    k.op("selp.b32 sc, sc_hi, sc, p_high;")
    k.op("selp.b32 m, m_hi, m, p_high;")
    k.op("mov.b32 {d_bits, dmin_bits}, head;")
    k.op("cvt.f32.f16 d, d_bits;")
    k.op("cvt.f32.f16 dmin, dmin_bits;")
    k.op("cvt.rn.f32.u32 scale, sc;")
    k.op("cvt.rn.f32.u32 min, m;")
    k.op("mul.f32 scale, scale, d;")
    k.op("mul.f32 min, min, dmin;")
    k.op("and.b32 shift, sub, 1;")
    k.op("shl.b32 shift, shift, 2;", "0: low nibbles, 4: high nibbles")
    k.op("mov.f32 sum, 0f00000000;")
    k.op("mov.f32 sum_x, 0f00000000;")
    for i in range(2):
        k.op("shr.u32 w, q%d, shift;" % i)
        k.op("and.b32 w, w, 0x0F0F0F0F;", "weights %d..%d" % (4 * i, 4 * i + 3))
        if high_bits:
            k.op("shr.u32 hb, qh%d, sub;" % i)
            k.op("and.b32 hb, hb, 0x01010101;", "bit s of each qh byte")
            k.op("shl.b32 hb, hb, 4;")
            k.op("or.b32 w, w, hb;")
        bytes_dot(k, "w", 0, 4 * i, "q", sum_x=True)
    k.op("fma.rn.f32 acc, scale, sum, acc;")
    k.op("neg.f32 min, min;")
    k.op("fma.rn.f32 acc, min, sum_x, acc;")
    epilogue(k)
    return k


def q6_k(rows=1):
    k = new_kernel("gemv_q6_k", rows)
    k.emit("// Q6_K: super-blocks of 256 weights, 210 bytes: ql[128] (low 4 bits), qh[64] (high 2 bits),")
    k.emit("// scales[16] int8, fp16 d. Sub-block s (32 weights; h = s / 4, t = s % 4) is elements")
    k.emit("// 128 h + 32 t + l, l = 0..31 (ggml's dequantize_row_q6_K): low bits = nibble t / 2 (low, high)")
    k.emit("// of ql[64 h + 32 (t % 2) + l], high bits = bits 2t, 2t+1 of qh[32 h + l], q = low | high << 4,")
    k.emit("// value d * scales[8 h + 2 t + l / 16] * (q - 32). Chunk = 8 weights l = 8p..8p+7 of sub-block s")
    k.emit("// (one scale), its ql and qh bytes read as four 16-bit words each.")
    prologue(k, 256, 210, 8,
             extra_regs="    .reg .b16   d_bits;\n"
                        "    .reg .u32   super, sub, part, half, quarter, t, low_shift, high_shift, l<4>, hh<4>, ql, qh, q;\n"
                        "    .reg .b32   f;\n"
                        "    .reg .s32   scale_bits;\n"
                        "    .reg .u64   base, addr, low_addr, high_addr;\n"
                        "    .reg .f32   d, sum, value, scale;")
    k.op("shr.u32 super, chunk, 5;")
    k.op("bfe.u32 sub, chunk, 2, 3;")
    k.op("and.b32 part, chunk, 3;")
    k.op("shr.u32 half, sub, 2;")
    k.op("and.b32 quarter, sub, 3;")
    k.op("mul.wide.u32 base, super, 210;")
    k.op("add.u64 base, base, row_ptr;")
    k.op("and.b32 t, quarter, 1;")
    k.op("shl.b32 t, t, 5;")
    k.op("mad.lo.u32 t, half, 64, t;")
    k.op("mad.lo.u32 t, part, 8, t;", "64 h + 32 (t % 2) + 8 p")
    k.op("cvt.u64.u32 low_addr, t;")
    k.op("add.u64 low_addr, low_addr, base;")
    k.op("shl.b32 t, part, 3;")
    k.op("mad.lo.u32 t, half, 32, t;", "32 h + 8 p")
    k.op("cvt.u64.u32 high_addr, t;")
    k.op("add.u64 high_addr, high_addr, base;", "qh[32 h + 8 p ..] at +128")
    k.op("shr.u32 t, part, 1;")
    k.op("mad.lo.u32 t, quarter, 2, t;")
    k.op("mad.lo.u32 t, half, 8, t;", "8 h + 2 t + l / 16")
    k.op("cvt.u64.u32 addr, t;")
    k.op("add.u64 addr, addr, base;")
    for i in range(4):
        k.op("ld.global.nc.u16 l%d, [low_addr+%d];" % (i, 2 * i))
    for i in range(4):
        k.op("ld.global.nc.u16 hh%d, [high_addr+%d];" % (i, 128 + 2 * i))
    k.op("ld.global.nc.s8 scale_bits, [addr+192];")
    k.op("ld.global.nc.b16 d_bits, [base+208];")
    load_x(k, 8)
    k.op("shr.u32 low_shift, quarter, 1;")
    k.op("shl.b32 low_shift, low_shift, 2;", "0 or 4")
    k.op("shl.b32 high_shift, quarter, 1;", "2t")
    k.op("mov.f32 sum, 0f00000000;")
    for i in range(2):
        k.op("prmt.b32 ql, l%d, l%d, 0x5410;" % (2 * i, 2 * i + 1), "ql bytes %d..%d" % (4 * i, 4 * i + 3))
        k.op("prmt.b32 qh, hh%d, hh%d, 0x5410;" % (2 * i, 2 * i + 1))
        k.op("shr.u32 ql, ql, low_shift;")
        k.op("and.b32 ql, ql, 0x0F0F0F0F;")
        k.op("shr.u32 qh, qh, high_shift;")
        k.op("and.b32 qh, qh, 0x03030303;")
        k.op("shl.b32 qh, qh, 4;")
        k.op("or.b32 q, ql, qh;", "four 6-bit q")
        bytes_dot(k, "q", 32, 4 * i, "q - 32")
    k.op("cvt.f32.f16 d, d_bits;")
    k.op("cvt.rn.f32.s32 scale, scale_bits;")
    k.op("mul.f32 scale, scale, d;")
    k.op("fma.rn.f32 acc, scale, sum, acc;")
    epilogue(k)
    return k


def table(name, values):
    return ".const .align 4 .f32 %s[16] = {%s};" % (name, ", ".join(f32(v) for v in values))


def main():
    out = [HEADER]
    out.append("// The 16 values of bitsandbytes' NF4 and FP4 codes (get_4bit_type; FP4 divided by 12 so that the")
    out.append("// largest is 1). IQ4_NL's kvalues are looked up in registers (see its kernel).")
    out.append(table("nf4_table", NF4))
    out.append(table("fp4_table", FP4))
    out.append("// This CTA's copy of the table its kernel looks up.")
    out.append(".shared .align 4 .f32 code_table[16];")
    out.append("")
    kernels = [bf16(), iq4_nl(), bnb4("nf4", "nf4_table"), bnb4("fp4", "fp4_table"), q4_k(), q4_k(high_bits=True), q6_k()]
    kernels += [iq4_nl(4), bnb4("nf4", "nf4_table", 4), bnb4("fp4", "fp4_table", 4), q4_k(rows=4),
                q4_k(high_bits=True, rows=4), q6_k(4)]
    d = "dequant"
    kernels += [bf16(d), iq4_nl(d), bnb4("nf4", "nf4_table", d), bnb4("fp4", "fp4_table", d), q4_k(rows=d),
                q4_k(high_bits=True, rows=d), q6_k(d)]
    for kernel in kernels:
        out.append("// ---------------------------------------------------------------------------------------------")
        out.extend(kernel.lines)
        out.append("")
    with open(OUT, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
