// Timestamps as systemd keeps them: microseconds of CLOCK_REALTIME and CLOCK_MONOTONIC, as bigint.

export interface DualTimestamp {
  realtime: bigint;
  monotonic: bigint;
}

export const NO_TIMESTAMP: DualTimestamp = Object.freeze({ realtime: 0n, monotonic: 0n });

export function now(): DualTimestamp {
  const monotonic = process.hrtime.bigint() / 1000n;
  const realtime = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  return { realtime, monotonic };
}
