/**
 * IEEE 754 half precision (binary16) ↔ JavaScript numbers, for FP16 tensors (#5). onnxruntime-node
 * takes and gives a 'float16' tensor's values as their bits in a Uint16Array where the runtime
 * has no Float16Array (Node 20 has none), so the serving worker converts JSON numbers itself.
 */

/** The largest finite half: 65504. Anything from 65520 up rounds to infinity. */
export const FP16_MAX = 65504;

const SIGN = 0x8000;
const INFINITY_BITS = 0x7c00;
const NAN_BITS = 0x7e00;
/** The smallest normal half is 2^-14; below it the step is 2^-24 (subnormals). */
const MIN_NORMAL_EXPONENT = -14;

/**
 * The half nearest `value`, ties to even, as its 16 bits: subnormals kept, ±0 kept, beyond the
 * range ±Infinity, NaN a quiet NaN. The rounding is done once, from the float64, so a value is
 * never rounded twice (as going through a Float32Array would).
 */
export function toHalfBits(value: number): number {
  const sign = value < 0 || Object.is(value, -0) ? SIGN : 0;
  const magnitude = Math.abs(value);
  if (Number.isNaN(value)) {
    return NAN_BITS;
  }
  if (magnitude === 0) {
    return sign;
  }
  const exponent = Math.max(exponentOf(magnitude), MIN_NORMAL_EXPONENT);
  if (exponent > 15) {
    return sign | INFINITY_BITS;
  }
  // Scaled so that one unit is the last place of a half with this exponent: 10 fraction bits,
  // or the fixed 2^-24 step of subnormals. Scaling by a power of two is exact in float64.
  const units = roundHalfEven(magnitude * 2 ** (10 - exponent));
  const isSubnormal = units < 1024;
  // A normal's 1024..2048 units carry its implicit leading bit into the exponent field; 2048
  // (rounded up past the last mantissa) carries into the next exponent, and past 15 into infinity.
  const bits = isSubnormal ? units : ((exponent + 14) << 10) + units;
  return sign | Math.min(bits, INFINITY_BITS);
}

/** The number a half's 16 bits stand for. */
export function fromHalfBits(bits: number): number {
  const sign = bits & SIGN ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) {
    return sign * fraction * 2 ** -24;
  }
  if (exponent === 0x1f) {
    return fraction ? NaN : sign * Infinity;
  }
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

/** floor(log2(x)) for a positive finite x, exact at powers of two where Math.log2 may not be. */
function exponentOf(x: number): number {
  let e = Math.floor(Math.log2(x));
  if (2 ** e > x) {
    e -= 1;
  } else if (2 ** (e + 1) <= x) {
    e += 1;
  }
  return e;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest !== 0.5) {
    return rest < 0.5 ? floor : floor + 1;
  }
  return floor % 2 === 0 ? floor : floor + 1;
}
