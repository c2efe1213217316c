/** Lathe's Node client: log into a Lathe run through the daemon's native batch API. */

export interface LatheClientOptions {
  /** Default: LATHE_API. */
  api?: string;
  /** Default: LATHE_TOKEN. */
  token?: string;
  /** Default: LATHE_RUN_ID. */
  runId?: string;
  /** Buffered metrics are sent at most this long after the first of them. Default 1000 ms. */
  flushMs?: number;
}

export declare class LatheError extends Error {
  /** The daemon's code (LATHE_CONFLICT, LATHE_BAD_INPUT, LATHE_NOT_FOUND...), or LATHE_UNAVAILABLE. */
  readonly code: string;
  readonly status: number | null;
}

export declare class LatheClient {
  constructor(options?: LatheClientOptions);
  readonly api: string;
  readonly runId: string;
  /** Buffers one point (NaN and ±Infinity are kept); sent in batches of up to 1000. */
  logMetric(key: string, value: number, step?: number, timestamp?: number): void;
  logMetrics(metrics: Record<string, number>, step?: number, timestamp?: number): void;
  /** Sends every buffered point; rejects with the first failed send since the last flush. */
  flush(): Promise<void>;
  /** Write-once: the same value again is fine, a new value rejects with LATHE_CONFLICT. */
  logParam(key: string, value: unknown): Promise<void>;
  logParams(params: Record<string, unknown>): Promise<void>;
  setTag(key: string, value: unknown): Promise<void>;
  setTags(tags: Record<string, unknown>): Promise<void>;
  /** Uploads a file, or every file under a folder; resolves to the stored paths. */
  logArtifact(localPath: string, artifactPath?: string): Promise<string[]>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

/** The client of this process's run, or null (after one warning) when the environment has none. */
export declare function defaultClient(): LatheClient | null;
export declare function logMetric(
  key: string,
  value: number,
  step?: number,
  timestamp?: number,
): void;
export declare function logMetrics(
  metrics: Record<string, number>,
  step?: number,
  timestamp?: number,
): void;
export declare function logParam(key: string, value: unknown): Promise<void>;
export declare function logParams(params: Record<string, unknown>): Promise<void>;
export declare function setTag(key: string, value: unknown): Promise<void>;
export declare function setTags(tags: Record<string, unknown>): Promise<void>;
export declare function logArtifact(localPath: string, artifactPath?: string): Promise<string[]>;
export declare function flush(): Promise<void>;
