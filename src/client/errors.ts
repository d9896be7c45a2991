import type { ErrorBody } from './types.js';

/** A non-2xx answer of the API, with the error envelope's code (or HTTP_<status> when it had none). */
export class TallyhouseApiError extends Error {
  override readonly name = 'TallyhouseApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly requestId?: string,
  ) {
    super(message);
  }

  static async fromResponse(res: Response): Promise<TallyhouseApiError> {
    const text = await res.text().catch(() => '');
    try {
      const body = JSON.parse(text) as Partial<ErrorBody>;
      if (body.error && typeof body.error.code === 'string') {
        return new TallyhouseApiError(res.status, body.error.code, `${res.status} ${body.error.code}: ${body.error.message}`, body.error.details, body.error.requestId);
      }
    } catch {
      // not the envelope (a proxy's page, say): keep the text
    }
    return new TallyhouseApiError(res.status, `HTTP_${res.status}`, `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }
}

/** The request never got an HTTP answer (refused, reset, timed out) after the allowed attempts. */
export class TallyhouseNetworkError extends Error {
  override readonly name = 'TallyhouseNetworkError';
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}
