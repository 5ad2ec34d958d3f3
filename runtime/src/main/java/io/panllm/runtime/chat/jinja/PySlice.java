package io.panllm.runtime.chat.jinja;

import com.hubspot.jinjava.objects.collections.PyList;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import jinjava.javax.el.ELException;

/** Python's slice semantics (negative indices count from the end, None means "to the edge"). */
final class PySlice {
    private PySlice() {
    }

    /** {@code sequence[start:stop:step]} of a list, any other collection (in its order) or a string (by code point). */
    static Object of(Object sequence, Long start, Long stop, Long step) {
        if (sequence instanceof String s) {
            int[] codePoints = s.codePoints().toArray();
            StringBuilder out = new StringBuilder();
            for (int i : indices(codePoints.length, start, stop, step)) {
                out.appendCodePoint(codePoints[i]);
            }
            return out.toString();
        }
        List<?> items;
        if (sequence instanceof List<?> list) {
            items = list;
        } else if (sequence instanceof Collection<?> c) {
            items = new ArrayList<>(c);
        } else if (sequence instanceof Object[] array) {
            items = List.of(array);
        } else {
            throw new ELException("'" + (sequence == null ? "None" : sequence.getClass().getSimpleName()) + "' object is not subscriptable");
        }
        List<Object> out = new ArrayList<>();
        for (int i : indices(items.size(), start, stop, step)) {
            out.add(items.get(i));
        }
        return new PyList(out);
    }

    /** The indices a slice picks from a sequence of this length (PySlice_AdjustIndices). */
    static int[] indices(int length, Long start, Long stop, Long step) {
        long by = step == null ? 1 : step;
        if (by == 0) {
            throw new ELException("slice step cannot be zero");
        }
        long lower = by > 0 ? 0 : -1;
        long upper = by > 0 ? length : length - 1;
        long from = start == null ? (by > 0 ? lower : upper) : clamp(start, length, lower, upper);
        long to = stop == null ? (by > 0 ? upper : lower) : clamp(stop, length, lower, upper);
        int count = (int) Math.max(0, by > 0 ? (to - from + by - 1) / by : (from - to - by - 1) / -by);
        int[] out = new int[count];
        for (int k = 0; k < count; k++) {
            out[k] = (int) (from + k * by);
        }
        return out;
    }

    private static long clamp(long index, int length, long lower, long upper) {
        return index < 0 ? Math.max(index + length, lower) : Math.min(index, upper);
    }
}
