package io.panllm.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;

/** The answer side of one HTTP request, as the API code needs it (the server library stays behind it). */
interface Exchange {

    /** Sends a whole JSON answer. */
    void sendJson(int status, JsonNode body) throws IOException;

    /** Starts a server-sent-event stream (200, text/event-stream). */
    void startEvents() throws IOException;

    /**
     * Sends one event ({@code data: <text>} and a blank line) and flushes it to the client.
     *
     * @throws IOException when the client has gone
     */
    void sendEvent(String data) throws IOException;

    /** Runs {@code action} (once) when the client goes away before the answer is complete. */
    void onDisconnect(Runnable action);
}
