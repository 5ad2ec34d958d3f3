package io.panllm.runtime.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringsTest {

    @Test
    void aStopStringSplitOverPiecesIsHeldBackAndNeverReleased() {
        StopStrings stops = new StopStrings(List.of("END"));
        assertThat(stops.accept("Hello E")).isEqualTo("Hello ");
        assertThat(stops.accept("N")).isEmpty();
        assertThat(stops.accept("D and more")).isEmpty();
        assertThat(stops.stopped()).isTrue();
        assertThat(stops.flush()).isEmpty();
    }

    @Test
    void aPrefixThatTurnsOutNotToBeAStopIsReleased() {
        StopStrings stops = new StopStrings(List.of("END"));
        assertThat(stops.accept("ab EN")).isEqualTo("ab ");
        assertThat(stops.accept("x")).isEqualTo("ENx");
        assertThat(stops.accept("E")).isEmpty();
        assertThat(stops.flush()).isEqualTo("E");
        assertThat(stops.stopped()).isFalse();
    }

    @Test
    void theEarliestOfSeveralStopsWins() {
        StopStrings stops = new StopStrings(List.of("world", "lo w"));
        assertThat(stops.accept("hello world")).isEqualTo("hel");
        assertThat(stops.stopped()).isTrue();
    }

    @Test
    void withoutStopsEverythingPassesAtOnce() {
        StopStrings stops = new StopStrings(List.of());
        assertThat(stops.accept("abc")).isEqualTo("abc");
        assertThat(stops.flush()).isEmpty();
    }
}
