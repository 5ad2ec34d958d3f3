#!/usr/bin/env python3
"""Writes kernels/src/main/resources/io/panllm/kernels/gemv_dp4a.ptx.

Decode GEMVs with integer dot products: x quantized once per step to int8 blocks of 32 (Q8_1
style: a scale d and s = d * sum(q) per block, kernel quantize_q8_1), the weights' codes dotted
with it four at a time by dp4a, one float multiply-add per block of 32 (or per sub-block pair).
The weights are staged through shared memory with cp.async (16-byte, fully coalesced copies,
no registers), two stages per warp in flight, so that the 2-byte aligned GGUF blocks (Q4_0 18
bytes, Q8_0 and NF4 34, Q6_K 210) cost no 16-bit global loads: each lane reads its blocks from
shared memory as 32-bit words and re-aligns them with one prmt per word.

PTX has no macros or compile-time loops: this script only repeats the straight-line parts.
Run it from the repository root after editing, and commit both files.
"""
import struct

OUT = "kernels/src/main/resources/io/panllm/kernels/gemv_dp4a.ptx"

ROWS = 2          # rows per warp (they share each chunk's x registers)
WARPS = 4         # warps per CTA (128 threads)

IQ4_NL = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113]
# bitsandbytes' NF4 values times 127, rounded: the codebook as int8 codes for dp4a (the CPU
# reference, reference.Dp4aReference, uses exactly these values)
NF4_INT8 = [-127, -88, -67, -50, -36, -23, -12, 0, 10, 20, 31, 43, 56, 71, 92, 127]


def f32(value):
    return "0f%08X" % struct.unpack("<I", struct.pack("<f", value))[0]


def table_words(values):
    return [sum((values[4 * w + i] & 0xFF) << (8 * i) for i in range(4)) for w in range(4)]


HEADER = """//
// gemv_dp4a.ptx: y = W x for one token (decode) with x quantized to int8 (written by
// kernels/tools/gemv_dp4a.py; NOTES.md "GEMV v6"). Two steps:
//
// Loaded after common.ptx (version, target). Kernels:
// 1. quantize_q8_1(x, xq, cols): x (float32, cols a multiple of 32) to xq = int8 codes q[cols]
//    followed by one (d, s) float pair per block of 32 (8-byte aligned at xq + cols): d = amax / 127,
//    q = round-half-even(x / d) (0 where amax = 0), s = d * sum(q). Once per step per x; shared by
//    every matrix that multiplies that x (q, k, v; gate, up).
// 2. gemv_q8x_FORMAT(weights, xq, y, rows, cols): y = W x^ where x^ = d q is x as quantized.
//    Per block of 32 weights: sumi = sum(code * q) by dp4a (integer, exact), then one float term;
//    offset formats use s (Q4_0: d_w (d sumi - 8 s); Q4_K: - dmin m s).
//
// Launch shape: 128 threads (4 warps), grid.x = ceil(rows / 8); warp w of CTA c owns rows
// 2 (4 c + w) and the next. A row is cut into stages of 32 (or 64) units of 32 or 64 weights; a
// warp copies a stage of its two rows into its shared buffer with cp.async (lane l: bytes 16 l,
// 16 l + 512, ...), two stages in flight (double buffer), and lane l computes units l (and
// l + 32) of the stage from shared memory. Rows must start 16-byte aligned (row bytes a multiple
// of 16: Q4_0/Q8_0 cols % 256, Q6_K cols % 2048) and cols must be whole units; the Java side
// checks both (Dp4aGemv.takes). Rows past the end read the last row and are not written.
//
"""


class Kernel:
    def __init__(self, name):
        self.name = name
        self.lines = []

    def emit(self, line=""):
        self.lines.append(line)

    def op(self, text, comment=None):
        parts = text.split(None, 1)
        line = "    %-23s %s" % (parts[0], parts[1] if len(parts) > 1 else "")
        if comment:
            line = "%-72s // %s" % (line, comment)
        self.emit(line.rstrip())


class Format:
    """One weight format: its geometry and the code of one unit (per row) and of the unit's x."""

    def __init__(self, name, block_weights, block_bytes, unit_weights, units_per_lane, regs, unit, doc,
                 x_blocks=None, row_scale=False):
        self.name = name
        self.block_weights = block_weights
        self.block_bytes = block_bytes
        self.unit_weights = unit_weights
        self.units_per_lane = units_per_lane
        self.regs = regs
        self.unit = unit
        self.doc = doc
        self.x_blocks = x_blocks
        self.row_scale = row_scale
        self.units_per_block = block_weights // unit_weights if block_weights >= unit_weights else 1
        self.stage_units = 32 * units_per_lane
        self.stage_bytes = self.stage_units // self.units_per_block * block_bytes \
            if self.units_per_block > 1 else self.stage_units * unit_weights // block_weights * block_bytes
        assert self.stage_bytes % 16 == 0


def realign(k, words, first_byte_count):
    """Words w0.. of a 2-byte aligned span at `sp` (shared): loads ceil((n + 2) / 4) words from
    sp & ~3 and sets sel for prmt (0x5432 if sp is 4-aligned, else 0x7654)."""
    k.op("and.b32 sa, sp, -4;", "2-byte aligned block: words from sp & ~3")
    k.op("and.b32 odd, sp, 2;")
    k.op("mad.lo.u32 sel, odd, 0x1111, 0x5432;", "prmt: bytes 2..5 (aligned) or 4..7 of (w_i, w_i+1)")
    k.op("shl.b32 sh, odd, 3;", "the first 16-bit field is at bit 0 or 16 of w0")
    for i in range(words):
        k.op("ld.shared.u32 w%d, [sa+%d];" % (i, 4 * i))


def half_at(k, dst, word, shift="sh"):
    k.op("shr.b32 t, %s, %s;" % (word, shift))
    k.op("cvt.u16.u32 h16, t;")
    k.op("cvt.f32.f16 %s, h16;" % dst)


# ---------------------------------------------------------------------------------------------
# Units. Each gets: sp (u32 shared address of the unit's block), part (unit within its block,
# for the K formats), x words x0.. and dx0, sx0 (dx1, sx1), the row's accumulator `acc`.

def q4_0_unit(k, acc, table=None):
    realign(k, 5, 18)
    half_at(k, "d", "w0")
    k.op("mov.u32 sumi, 0;")
    for i in range(4):
        k.op("prmt.b32 q, w%d, w%d, sel;" % (i, i + 1), "qs[4i..4i+3]: elements 4i.. (low), 16+4i.. (high)" if i == 0 else None)
        if table is None:
            k.op("and.b32 lo, q, 0x0F0F0F0F;")
            k.op("shr.u32 hi, q, 4;")
            k.op("and.b32 hi, hi, 0x0F0F0F0F;")
            k.op("dp4a.u32.s32 sumi, lo, x%d, sumi;" % i)
            k.op("dp4a.u32.s32 sumi, hi, x%d, sumi;" % (i + 4))
        else:
            lookup(k, "q", "lo", "hi", (0x6420, 0x7531))
            k.op("dp4a.s32.s32 sumi, lo, x%d, sumi;" % i)
            k.op("dp4a.s32.s32 sumi, hi, x%d, sumi;" % (i + 4))
    k.op("cvt.rn.f32.s32 f, sumi;")
    k.op("mul.f32 f, f, dx0;")
    if table is None:
        k.op("fma.rn.f32 f, sx0, 0fC1000000, f;", "d sumi - 8 s: the zero point 8")
    k.op("fma.rn.f32 %s, d, f, %s;" % (acc, acc))


def lookup(k, q, first, second, order):
    """The 8 nibbles of q through the 16-byte int8 table in tab0..tab3 (llama.cpp's
    get_int_from_table_16): one prmt among the low eight entries by (nibble & 7), one among the
    high eight, one picks by bit 3; nibble n of q lands in byte n of v0 (n < 4) or v1 (n - 4), and
    two prmts (`order`) gather the bytes into `first` and `second`."""
    k.op("and.b32 t, %s, 0x88888888;" % q)
    k.op("shr.u32 t, t, 1;")
    k.op("or.b32 pick, t, 0x32103210;", "byte n from the low (n) or high (4 + n) lookup")
    k.op("and.b32 idx, %s, 0x77777777;" % q, "bit 3 of a prmt selector would replicate the sign")
    k.op("prmt.b32 lo8, tab0, tab1, idx;")
    k.op("prmt.b32 hi8, tab2, tab3, idx;")
    k.op("prmt.b32 v0, lo8, hi8, pick;")
    k.op("shr.u32 idx, idx, 16;")
    k.op("shr.u32 pick, pick, 16;")
    k.op("prmt.b32 lo8, tab0, tab1, idx;")
    k.op("prmt.b32 hi8, tab2, tab3, idx;")
    k.op("prmt.b32 v1, lo8, hi8, pick;")
    k.op("prmt.b32 %s, v0, v1, 0x%04X;" % (first, order[0]))
    k.op("prmt.b32 %s, v0, v1, 0x%04X;" % (second, order[1]))


def iq4_nl_unit(k, acc):
    q4_0_unit(k, acc, table=IQ4_NL)


def q8_0_unit(k, acc):
    realign(k, 9, 34)
    half_at(k, "d", "w0")
    k.op("mov.u32 sumi, 0;")
    for i in range(8):
        k.op("prmt.b32 q, w%d, w%d, sel;" % (i, i + 1))
        k.op("dp4a.s32.s32 sumi, q, x%d, sumi;" % i)
    k.op("cvt.rn.f32.s32 f, sumi;")
    k.op("mul.f32 f, f, dx0;")
    k.op("fma.rn.f32 %s, d, f, %s;" % (acc, acc))


def nf4_unit(k, acc):
    # block of 64: fp16 absmax, 32 code bytes; element 2k high nibble of byte k, 2k+1 low.
    realign(k, 9, 34)
    half_at(k, "d", "w0")
    k.op("mov.u32 sumi, 0;")
    k.op("mov.u32 sumj, 0;")
    for i in range(8):
        k.op("prmt.b32 q, w%d, w%d, sel;" % (i, i + 1), "code bytes 4i..4i+3: elements 8i..8i+7" if i == 0 else None)
        # nibble order in q: 8i+1, 8i, 8i+3, 8i+2 (v0), 8i+5, 8i+4, 8i+7, 8i+6 (v1)
        lookup(k, "q", "lo", "hi", (0x2301, 0x6745))
        s = "sumi" if i < 4 else "sumj"
        k.op("dp4a.s32.s32 %s, lo, x%d, %s;" % (s, 2 * i, s))
        k.op("dp4a.s32.s32 %s, hi, x%d, %s;" % (s, 2 * i + 1, s))
    k.op("cvt.rn.f32.s32 f, sumi;")
    k.op("mul.f32 f, f, dx0;")
    k.op("cvt.rn.f32.s32 g, sumj;")
    k.op("fma.rn.f32 f, g, dx1, f;")
    k.op("mul.f32 d, d, %s;" % f32(1.0 / 127.0), "the int8 codebook is NF4 x 127")
    k.op("fma.rn.f32 %s, d, f, %s;" % (acc, acc))


def q4_k_unit(k, acc, high_bits=False):
    # super-block (16-byte aligned): d, dmin, scales[12], (qh[32]), qs[128]; unit `part` = sub-blocks
    # 2 part (low nibbles of qs[32 part ..]) and 2 part + 1 (high nibbles).
    k.op("ld.shared.v4.u32 {h0, h1, h2, h3}, [sp];", "d | dmin << 16, scales[0..11]")
    k.op("mad.lo.u32 sa, part, 32, sp;")
    qs = 48 if high_bits else 16
    k.op("ld.shared.v4.u32 {w0, w1, w2, w3}, [sa+%d];" % qs)
    k.op("ld.shared.v4.u32 {w4, w5, w6, w7}, [sa+%d];" % (qs + 16))
    if high_bits:
        k.op("ld.shared.v4.u32 {g0, g1, g2, g3}, [sp+16];", "qh[32]: bit s of byte l = bit 4 of element l of sub-block s")
        k.op("ld.shared.v4.u32 {g4, g5, g6, g7}, [sp+32];")
    # scale and min of sub-blocks s = 2 part + e (ggml's get_scale_min_k4), both e at once in 16 bits
    k.op("and.b32 t, part, 1;")
    k.op("shl.b32 t, t, 4;", "bytes 2 (part % 2) ..: scales[s % 4]")
    k.op("shr.b32 a1, h1, t;")
    k.op("shr.b32 a2, h2, t;")
    k.op("shr.b32 a3, h3, t;")
    k.op("setp.ge.u32 p_hi, part, 2;")
    k.op("and.b32 sc, a1, 0x3F3F;", "s < 4: q[s] & 63")
    k.op("and.b32 m, a2, 0x3F3F;", "s < 4: q[s + 4] & 63")
    k.op("and.b32 t, a3, 0x0F0F;")
    k.op("shr.b32 u, a1, 2;")
    k.op("and.b32 u, u, 0x3030;")
    k.op("@p_hi or.b32 sc, t, u;", "s >= 4: (q[s+4] & 15) | (q[s-4] >> 6) << 4")
    k.op("shr.b32 t, a3, 4;")
    k.op("and.b32 t, t, 0x0F0F;")
    k.op("shr.b32 u, a2, 2;")
    k.op("and.b32 u, u, 0x3030;")
    k.op("@p_hi or.b32 m, t, u;", "s >= 4: (q[s+4] >> 4) | (q[s] >> 6) << 4")
    k.op("mov.u32 sumi, 0;")
    k.op("mov.u32 sumj, 0;")
    if high_bits:
        k.op("shl.b32 hs, part, 1;", "qh bit of sub-block 2 part")
    for i in range(8):
        k.op("and.b32 lo, w%d, 0x0F0F0F0F;" % i)
        k.op("shr.u32 hi, w%d, 4;" % i)
        k.op("and.b32 hi, hi, 0x0F0F0F0F;")
        if high_bits:
            k.op("shr.b32 t, g%d, hs;" % i)
            k.op("and.b32 u, t, 0x01010101;")
            k.op("shl.b32 u, u, 4;")
            k.op("or.b32 lo, lo, u;")
            k.op("and.b32 u, t, 0x02020202;")
            k.op("shl.b32 u, u, 3;")
            k.op("or.b32 hi, hi, u;")
        k.op("dp4a.u32.s32 sumi, lo, x%d, sumi;" % i)
        k.op("dp4a.u32.s32 sumj, hi, x%d, sumj;" % (i + 8))
    k.op("and.b32 t, sc, 255;")
    k.op("mul.lo.s32 sumi, sumi, t;")
    k.op("shr.b32 t, sc, 8;")
    k.op("mul.lo.s32 sumj, sumj, t;")
    k.op("cvt.rn.f32.s32 f, sumi;")
    k.op("mul.f32 f, f, dx0;")
    k.op("cvt.rn.f32.s32 g, sumj;")
    k.op("fma.rn.f32 f, g, dx1, f;", "sum of sc q x^ over the two sub-blocks")
    k.op("and.b32 t, m, 255;")
    k.op("cvt.rn.f32.u32 g, t;")
    k.op("mul.f32 g, g, sx0;")
    k.op("shr.b32 t, m, 8;")
    k.op("cvt.rn.f32.u32 e, t;")
    k.op("fma.rn.f32 g, e, sx1, g;", "sum of m x^")
    k.op("mov.b32 {h16, g16}, h0;")
    k.op("cvt.f32.f16 d, h16;")
    k.op("cvt.f32.f16 e, g16;")
    k.op("fma.rn.f32 %s, d, f, %s;" % (acc, acc))
    k.op("neg.f32 e, e;")
    k.op("fma.rn.f32 %s, e, g, %s;" % (acc, acc))


def q5_k_unit(k, acc):
    q4_k_unit(k, acc, high_bits=True)


def q6_k_unit(k, acc):
    # super-block of 210 bytes (2-byte aligned): ql[128], qh[64], scales[16] int8, fp16 d. Unit
    # `part` = (h, tp) = (part / 2, part % 2): sub-blocks t = tp (low nibbles of ql[64 h + 32 tp + l],
    # qh bits 2 tp) and t = tp + 2 (high nibbles, qh bits 2 tp + 4), l = 0..31, elements 128 h + 32 t + l.
    k.op("shr.b32 hh, part, 1;")
    k.op("and.b32 tp, part, 1;")
    k.op("mov.u32 base, sp;")
    k.op("shl.b32 t, part, 5;", "64 h + 32 tp = 32 part")
    k.op("add.u32 sp, base, t;")
    realign(k, 9, 32)
    for i in range(8):
        k.op("prmt.b32 w%d, w%d, w%d, sel;" % (i, i, i + 1), "ql[64 h + 32 tp ..]" if i == 0 else None)
    k.op("shl.b32 t, hh, 5;")
    k.op("add.u32 t, t, 128;")
    k.op("add.u32 sp, base, t;", "qh[32 h ..]")
    k.op("and.b32 sa, sp, -4;")
    for i in range(9):
        k.op("ld.shared.u32 g%d, [sa+%d];" % (i, 4 * i))
    for i in range(8):
        k.op("prmt.b32 g%d, g%d, g%d, sel;" % (i, i, i + 1))
    k.op("shl.b32 t, hh, 3;")
    k.op("mad.lo.u32 t, tp, 2, t;")
    k.op("add.u32 t, t, base;", "scales[8 h + 2 tp ..] at +192 (2-byte aligned)")
    k.op("ld.shared.u16 sc, [t+192];", "scales of t = tp, l < 16 and l >= 16")
    k.op("ld.shared.u16 m, [t+196];", "scales of t = tp + 2")
    k.op("ld.shared.u16 t, [base+208];")
    k.op("cvt.u16.u32 h16, t;")
    k.op("cvt.f32.f16 d, h16;")
    k.op("shl.b32 hs, tp, 1;", "qh bits 2 tp (t = tp) and 2 tp + 4")
    # four 16-element groups: (t = tp, l < 16), (tp, l >= 16), (tp + 2, l < 16), (tp + 2, l >= 16)
    for g in range(4):
        k.op("mov.u32 s%d, 0;" % g)
        k.op("mov.u32 o%d, 0;" % g)
    k.op("mov.u32 u32s, 0x20202020;")
    for i in range(8):
        g = i // 4   # group of x block A (t = tp); g + 2: of x block B (t = tp + 2)
        k.op("and.b32 lo, w%d, 0x0F0F0F0F;" % i)
        k.op("shr.b32 t, g%d, hs;" % i)
        k.op("and.b32 u, t, 0x03030303;")
        k.op("shl.b32 u, u, 4;")
        k.op("or.b32 lo, lo, u;", "q of t = tp, 0..63")
        k.op("shr.u32 hi, w%d, 4;" % i)
        k.op("and.b32 hi, hi, 0x0F0F0F0F;")
        k.op("shr.b32 u, t, 4;")
        k.op("and.b32 u, u, 0x03030303;")
        k.op("shl.b32 u, u, 4;")
        k.op("or.b32 hi, hi, u;", "q of t = tp + 2")
        k.op("dp4a.u32.s32 s%d, lo, x%d, s%d;" % (g, i, g))
        k.op("dp4a.u32.s32 s%d, hi, x%d, s%d;" % (g + 2, i + 8, g + 2))
        k.op("dp4a.u32.s32 o%d, u32s, x%d, o%d;" % (g, i, g), "32 sum(x) of the group: the zero point")
        k.op("dp4a.u32.s32 o%d, u32s, x%d, o%d;" % (g + 2, i + 8, g + 2))
    for g in range(4):
        k.op("sub.s32 s%d, s%d, o%d;" % (g, g, g), "sum (q - 32) x of group %d" % g if g == 0 else None)
    k.op("bfe.s32 t, sc, 0, 8;")
    k.op("mul.lo.s32 s0, s0, t;")
    k.op("bfe.s32 t, sc, 8, 8;")
    k.op("mad.lo.s32 s0, s1, t, s0;")
    k.op("bfe.s32 t, m, 0, 8;")
    k.op("mul.lo.s32 s2, s2, t;")
    k.op("bfe.s32 t, m, 8, 8;")
    k.op("mad.lo.s32 s2, s3, t, s2;")
    k.op("cvt.rn.f32.s32 f, s0;")
    k.op("mul.f32 f, f, dx0;")
    k.op("cvt.rn.f32.s32 g, s2;")
    k.op("fma.rn.f32 f, g, dx1, f;")
    k.op("fma.rn.f32 %s, d, f, %s;" % (acc, acc))


def q6_k_x_blocks(k):
    # unit u = 4 S + part: x blocks 8 S + 4 h + tp and that + 2 (see q6_k_unit)
    k.op("and.b32 t, unit, 3;")
    k.op("shl.b32 xb, unit, 1;")
    k.op("sub.u32 xb, xb, t;")
    k.op("sub.u32 xb, xb, t;")
    k.op("shr.b32 u, t, 1;")
    k.op("shl.b32 u, u, 2;")
    k.op("add.u32 xb, xb, u;")
    k.op("and.b32 u, t, 1;")
    k.op("add.u32 xb, xb, u;", "8 S + 4 h + tp")
    return [("xb", 0), ("xb", 2)]


def i8_unit(k, acc):
    k.op("ld.shared.v4.u32 {w0, w1, w2, w3}, [sp];")
    k.op("ld.shared.v4.u32 {w4, w5, w6, w7}, [sp+16];")
    k.op("mov.u32 sumi, 0;")
    for i in range(8):
        k.op("dp4a.s32.s32 sumi, w%d, x%d, sumi;" % (i, i))
    k.op("cvt.rn.f32.s32 f, sumi;")
    k.op("fma.rn.f32 %s, f, dx0, %s;" % (acc, acc))


COMMON_REGS = ("    .reg .pred  p_hi;\n    .reg .b16   h16, g16;\n"
               "    .reg .u32   sa, odd, sel, sh, t, u, q, lo, hi, sumi, sumj, idx, pick, lo8, hi8, v0, v1, sc, m, hs;\n"
               "    .reg .u32   w<9>, g<9>, h<4>, a1, a2, a3, s<4>, o<4>, hh, tp, base, xb, u32s;\n"
               "    .reg .f32   d, e, f, g;")

FORMATS = [
    Format("q4_0", 32, 18, 32, 2, COMMON_REGS, q4_0_unit, "Q4_0: d (fp16), qs[16]; element i low nibble of qs[i], 16 + i high; value d (q - 8)."),
    Format("q8_0", 32, 34, 32, 1, COMMON_REGS, q8_0_unit, "Q8_0: d (fp16), int8 qs[32]; value d q."),
    Format("iq4_nl", 32, 18, 32, 2, COMMON_REGS, iq4_nl_unit, "IQ4_NL: Q4_0's layout, value d kvalues_iq4nl[nibble] (int8 table in registers)."),
    Format("nf4", 64, 34, 64, 1, COMMON_REGS, nf4_unit,
           "NF4: absmax (fp16), 32 code bytes (element 2k high nibble of byte k); value absmax NF4[code],\n"
           "// here absmax NF4_INT8[code] / 127 (the codebook rounded to int8 for dp4a)."),
    Format("q4_k", 256, 144, 64, 1, COMMON_REGS, q4_k_unit, "Q4_K: d, dmin, scales[12], qs[128]; value d sc q - dmin m."),
    Format("q5_k", 256, 176, 64, 1, COMMON_REGS, q5_k_unit, "Q5_K: Q4_K with qh[32] before qs: bit 4 of q."),
    Format("q6_k", 256, 210, 64, 1, COMMON_REGS, q6_k_unit, "Q6_K: ql[128], qh[64], int8 scales[16], d; value d sc (q - 32).",
           x_blocks=q6_k_x_blocks),
    Format("i8", 32, 32, 32, 2, COMMON_REGS, i8_unit,
           "INT8 (LLM.int8 rows): int8 codes, no blocks (32-byte units here), a float scale per row (param_scales).",
           row_scale=True),
]


def load_x(k, fmt):
    """x codes of the lane's unit into x0.., its block scales into dx0, sx0 (dx1, sx1)."""
    if fmt.x_blocks:
        blocks = fmt.x_blocks(k)
        for n, (reg, plus) in enumerate(blocks):
            k.op("add.u32 t, %s, %d;" % (reg, plus))
            k.op("mul.wide.u32 xa, t, 32;")
            k.op("add.u64 xa, xa, xq;")
            k.op("ld.global.nc.v4.u32 {x%d, x%d, x%d, x%d}, [xa];" % tuple(range(8 * n, 8 * n + 4)))
            k.op("ld.global.nc.v4.u32 {x%d, x%d, x%d, x%d}, [xa+16];" % tuple(range(8 * n + 4, 8 * n + 8)))
            k.op("mul.wide.u32 xa, t, 8;")
            k.op("add.u64 xa, xa, meta;")
            k.op("ld.global.nc.v2.f32 {dx%d, sx%d}, [xa];" % (n, n))
        return
    words = fmt.unit_weights // 4
    k.op("mul.wide.u32 xa, unit, %d;" % fmt.unit_weights)
    k.op("add.u64 xa, xa, xq;")
    for i in range(words // 4):
        k.op("ld.global.nc.v4.u32 {x%d, x%d, x%d, x%d}, [xa+%d];" % (4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3, 16 * i))
    k.op("mul.wide.u32 xa, unit, %d;" % (8 * fmt.unit_weights // 32))
    k.op("add.u64 xa, xa, meta;")
    if fmt.unit_weights == 32:
        k.op("ld.global.nc.v2.f32 {dx0, sx0}, [xa];")
    else:
        k.op("ld.global.nc.v4.f32 {dx0, sx0, dx1, sx1}, [xa];")


def gemv_kernel(fmt):
    k = Kernel("gemv_q8x_" + fmt.name)
    stage = fmt.stage_bytes
    buffer_bytes = 2 * ROWS * stage
    k.emit("// " + fmt.doc)
    k.emit("// Stage: %d units of %d weights = %d bytes per row; shared memory %d bytes per warp."
           % (fmt.stage_units, fmt.unit_weights, stage, buffer_bytes))
    k.emit(".shared .align 16 .b8 stage_%s[%d];" % (fmt.name, WARPS * buffer_bytes + 16))
    params = ".param .u64 param_weights, .param .u64 param_xq, .param .u64 param_y, .param .u32 param_rows, .param .u32 param_cols"
    if fmt.row_scale:
        params += ", .param .u64 param_scales"
    k.emit(".visible .entry %s(%s)" % (k.name, params))
    k.emit(".maxntid %d, 1, 1" % (32 * WARPS))
    k.emit("{")
    k.emit("    .reg .pred  p, p_done, p_skip;")
    k.emit("    .reg .u32   tid, warp, lane, row0, row, last_row, rows, cols, row_bytes, units, stages, stage, next,")
    k.emit("                sbase, buf, unit, sp, part, goff, dst;")
    k.emit("    .reg .u64   weights, xq, meta, y, xa, src, scales;")
    k.emit("    .reg .b32   x<16>;")
    k.emit("    .reg .f32   dx0, sx0, dx1, sx1, r;")
    for r in range(ROWS):
        k.emit("    .reg .u64   row_ptr_%d;" % r)
        k.emit("    .reg .f32   acc_%d;" % r)
    k.emit(fmt.regs)
    if fmt.name == "iq4_nl" or fmt.name == "nf4":
        k.emit("    .reg .u32   tab<4>;")
    k.emit()
    k.op("ld.param.u64 weights, [param_weights];")
    k.op("ld.param.u64 xq, [param_xq];")
    k.op("ld.param.u64 y, [param_y];")
    k.op("ld.param.u32 rows, [param_rows];")
    k.op("ld.param.u32 cols, [param_cols];")
    k.op("cvta.to.global.u64 weights, weights;")
    k.op("cvta.to.global.u64 xq, xq;")
    k.op("cvta.to.global.u64 y, y;")
    k.op("cvt.u64.u32 meta, cols;")
    k.op("add.u64 meta, meta, xq;", "(d, s) of each x block after the codes")
    k.op("mov.u32 tid, %tid.x;")
    k.op("shr.u32 warp, tid, 5;")
    k.op("and.b32 lane, tid, 31;")
    k.op("mov.u32 row0, %ctaid.x;")
    k.op("mad.lo.u32 row0, row0, %d, warp;" % WARPS)
    k.op("mul.lo.u32 row0, row0, %d;" % ROWS, "this warp's first row")
    k.op("setp.ge.u32 p, row0, rows;")
    k.op("@p bra.uni EXIT;", "the whole warp leaves; no CTA barrier below")
    k.op("sub.u32 last_row, rows, 1;")
    k.op("shr.u32 row_bytes, cols, %d;" % (fmt.block_weights.bit_length() - 1))
    k.op("mul.lo.u32 row_bytes, row_bytes, %d;" % fmt.block_bytes)
    k.op("shr.u32 units, cols, %d;" % (fmt.unit_weights.bit_length() - 1))
    k.op("add.u32 stages, units, %d;" % (fmt.stage_units - 1))
    k.op("shr.u32 stages, stages, %d;" % (fmt.stage_units.bit_length() - 1))
    for r in range(ROWS):
        k.op("add.u32 row, row0, %d;" % r)
        k.op("min.u32 row, row, last_row;")
        k.op("mul.wide.u32 src, row, row_bytes;")
        k.op("add.u64 row_ptr_%d, src, weights;" % r)
        k.op("mov.f32 acc_%d, 0f00000000;" % r)
    k.op("mov.u32 sbase, stage_%s;" % fmt.name)
    k.op("mad.lo.u32 sbase, warp, %d, sbase;" % buffer_bytes, "this warp's two buffers")
    if fmt.name in ("iq4_nl", "nf4"):
        words = table_words(IQ4_NL if fmt.name == "iq4_nl" else NF4_INT8)
        for i, w in enumerate(words):
            k.op("mov.b32 tab%d, 0x%08X;" % (i, w), "the 16 int8 values of the code table" if i == 0 else None)

    def issue(stage_reg, buffer_expr):
        # copies stage `stage_reg` of both rows into buffer `buffer_expr` (0 or 1, a register), 16 bytes a lane
        k.op("mul.lo.u32 goff, %s, %d;" % (stage_reg, stage))
        k.op("mad.lo.u32 goff, lane, 16, goff;")
        k.op("mad.lo.u32 dst, %s, %d, sbase;" % (buffer_expr, ROWS * stage))
        k.op("mad.lo.u32 dst, lane, 16, dst;")
        for c in range((stage + 511) // 512):
            k.op("add.u32 t, goff, %d;" % (512 * c))
            k.op("setp.lt.u32 p, t, row_bytes;")
            if 512 * c + 512 > stage:
                k.op("setp.lt.and.u32 p, lane, %d, p;" % ((stage - 512 * c) // 16), "the stage's last 16-byte pieces")
            for r in range(ROWS):
                k.op("cvt.u64.u32 src, t;")
                k.op("add.u64 src, src, row_ptr_%d;" % r)
                k.op("@p cp.async.cg.shared.global [dst+%d], [src], 16;" % (r * stage + 512 * c))
        k.op("cp.async.commit_group;")

    k.op("mov.u32 stage, 0;")
    k.op("mov.u32 buf, 0;")
    issue("stage", "buf")
    k.op("mov.u32 next, 1;")
    issue("next", "next")
    k.emit("LOOP:")
    k.op("setp.ge.u32 p_done, stage, stages;")
    k.op("@p_done bra.uni DONE;")
    k.op("cp.async.wait_group 1;", "this stage's copies are done (the next may still fly)")
    k.op("bar.warp.sync -1;", "and visible to the whole warp")
    k.op("and.b32 buf, stage, 1;")
    for j in range(fmt.units_per_lane):
        k.op("shl.b32 unit, stage, %d;" % (fmt.stage_units.bit_length() - 1))
        k.op("add.u32 unit, unit, lane;")
        if j:
            k.op("add.u32 unit, unit, %d;" % (32 * j))
        k.op("setp.ge.u32 p_skip, unit, units;")
        k.op("@p_skip bra SKIP_%d;" % j, "past the row's end (last stage only)")
        load_x(k, fmt)
        for r in range(ROWS):
            k.emit("    // row %d, unit %d of the stage" % (r, 32 * j))
            k.op("mad.lo.u32 sp, buf, %d, sbase;" % (ROWS * stage))
            if fmt.units_per_block > 1:
                k.op("add.u32 t, lane, %d;" % (32 * j))
                k.op("shr.u32 t, t, %d;" % (fmt.units_per_block.bit_length() - 1))
                k.op("mad.lo.u32 sp, t, %d, sp;" % fmt.block_bytes)
                k.op("and.b32 part, lane, %d;" % (fmt.units_per_block - 1))
            else:
                k.op("add.u32 t, lane, %d;" % (32 * j))
                k.op("mad.lo.u32 sp, t, %d, sp;" % fmt.block_bytes)
            if r:
                k.op("add.u32 sp, sp, %d;" % (r * stage))
            fmt.unit(k, "acc_%d" % r)
        k.emit("SKIP_%d:" % j)
    k.op("bar.warp.sync -1;", "every lane has read the buffer before it is refilled")
    k.op("add.u32 next, stage, 2;")
    issue("next", "buf")
    k.op("add.u32 stage, stage, 1;")
    k.op("bra.uni LOOP;")
    k.emit("DONE:")
    k.op("cp.async.wait_all;")
    for r in range(ROWS):
        for s in (16, 8, 4, 2, 1):
            k.op("shfl.sync.bfly.b32 r, acc_%d, %d, 31, -1;" % (r, s))
            k.op("add.f32 acc_%d, acc_%d, r;" % (r, r))
    k.op("setp.ne.u32 p, lane, 0;")
    k.op("@p bra.uni EXIT;")
    if fmt.row_scale:
        k.op("ld.param.u64 scales, [param_scales];")
        k.op("cvta.to.global.u64 scales, scales;")
    for r in range(ROWS):
        k.op("add.u32 row, row0, %d;" % r)
        k.op("setp.ge.u32 p, row, rows;")
        k.op("@p bra.uni EXIT;")
        if fmt.row_scale:
            k.op("mul.wide.u32 xa, row, 4;")
            k.op("add.u64 xa, xa, scales;")
            k.op("ld.global.nc.f32 r, [xa];")
            k.op("mul.f32 acc_%d, acc_%d, r;" % (r, r))
        k.op("mul.wide.u32 xa, row, 4;")
        k.op("add.u64 xa, xa, y;")
        k.op("st.global.f32 [xa], acc_%d;" % r)
    k.emit("EXIT:")
    k.op("ret;")
    k.emit("}")
    return k


def quantize_kernel():
    k = Kernel("quantize_q8_1")
    k.emit("// x (cols floats) to xq: one warp per block of 32, lane i its element i. 256 threads per CTA,")
    k.emit("// grid.x = ceil(cols / 256); cols a multiple of 32.")
    k.emit(".visible .entry quantize_q8_1(.param .u64 param_x, .param .u64 param_xq, .param .u32 param_cols)")
    k.emit("{")
    k.emit("    .reg .pred  p, p_zero;")
    k.emit("    .reg .u32   i, cols, t, block;")
    k.emit("    .reg .s32   q, sum, other;")
    k.emit("    .reg .u64   x, xq, a;")
    k.emit("    .reg .f32   v, amax, m, d, inv, s;")
    k.op("ld.param.u64 x, [param_x];")
    k.op("ld.param.u64 xq, [param_xq];")
    k.op("ld.param.u32 cols, [param_cols];")
    k.op("cvta.to.global.u64 x, x;")
    k.op("cvta.to.global.u64 xq, xq;")
    k.op("mov.u32 i, %ctaid.x;")
    k.op("mov.u32 t, %ntid.x;")
    k.op("mov.u32 block, %tid.x;")
    k.op("mad.lo.u32 i, i, t, block;")
    k.op("setp.ge.u32 p, i, cols;")
    k.op("@p bra.uni EXIT;", "whole warps (cols % 32 == 0)")
    k.op("mul.wide.u32 a, i, 4;")
    k.op("add.u64 a, a, x;")
    k.op("ld.global.f32 v, [a];")
    k.op("abs.f32 amax, v;")
    for s in (16, 8, 4, 2, 1):
        k.op("shfl.sync.bfly.b32 m, amax, %d, 31, -1;" % s)
        k.op("max.f32 amax, amax, m;")
    k.op("div.rn.f32 d, amax, 0f42FE0000;", "d = amax / 127")
    k.op("setp.eq.f32 p_zero, amax, 0f00000000;")
    k.op("div.rn.f32 inv, v, d;", "x / d, rounded half to even below")
    k.op("cvt.rni.s32.f32 q, inv;")
    k.op("min.s32 q, q, 127;")
    k.op("max.s32 q, q, -127;")
    k.op("selp.s32 q, 0, q, p_zero;")
    k.op("cvt.u64.u32 a, i;")
    k.op("add.u64 a, a, xq;")
    k.op("st.global.u8 [a], q;")
    k.op("mov.s32 sum, q;")
    for s in (16, 8, 4, 2, 1):
        k.op("shfl.sync.bfly.b32 other, sum, %d, 31, -1;" % s)
        k.op("add.s32 sum, sum, other;")
    k.op("and.b32 t, i, 31;")
    k.op("setp.ne.u32 p, t, 0;")
    k.op("@p bra.uni EXIT;")
    k.op("cvt.rn.f32.s32 s, sum;")
    k.op("mul.rn.f32 s, d, s;", "s = d * sum(q)")
    k.op("shr.u32 block, i, 5;")
    k.op("mul.wide.u32 a, block, 8;")
    k.op("cvt.u64.u32 x, cols;")
    k.op("add.u64 a, a, x;")
    k.op("add.u64 a, a, xq;")
    k.op("st.global.v2.f32 [a], {d, s};")
    k.emit("EXIT:")
    k.op("ret;")
    k.emit("}")
    return k


def main():
    out = [HEADER]
    kernels = [quantize_kernel()] + [gemv_kernel(f) for f in FORMATS]
    for kernel in kernels:
        out.append("// ---------------------------------------------------------------------------------------------")
        out.extend(kernel.lines)
        out.append("")
    with open(OUT, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
