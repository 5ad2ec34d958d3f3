package io.panllm.cli.serve;

/**
 * A request the server answers with an error in OpenAI's shape:
 * {@code {"error": {"message", "type", "param", "code"}}} and the matching HTTP status.
 */
final class ApiException extends RuntimeException {
    final int status;
    final String type;
    final String param;
    final String code;
    /** Seconds the client should wait before trying again (429/503), or 0. */
    final int retryAfter;

    ApiException(int status, String type, String message, String param, String code, int retryAfter) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfter = retryAfter;
    }

    static ApiException invalid(String message, String param) {
        return new ApiException(400, "invalid_request_error", message, param, null, 0);
    }

    static ApiException notFound(String message) {
        return new ApiException(404, "invalid_request_error", message, null, "not_found", 0);
    }
}
