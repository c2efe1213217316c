/**
 * Half precision conversions for FP16 serving (#5): edge values by hand, every half back and
 * forth, and the bits onnxruntime's own Cast gives for float32 values.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { onnx } from "onnx-proto";
import * as ort from "onnxruntime-node";
import { fromHalfBits, toHalfBits } from "../../daemon/src/serving/half";
import { castModel } from "../fixtures/onnx-half";

const hex = (bits: number) => `0x${bits.toString(16).padStart(4, "0")}`;

void test("numbers round to the nearest half, ties to even, with subnormals, overflow and NaN (#5)", () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [65504, 0x7bff], // the largest half
    [65519.99, 0x7bff], // below the midpoint to 65536: stays finite
    [65520, 0x7c00], // the midpoint rounds to even, which is past the largest: infinity
    [-1e10, 0xfc00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // the smallest normal
    [1023 * 2 ** -24, 0x03ff], // the largest subnormal
    [2 ** -24, 0x0001], // the smallest subnormal
    [2 ** -25, 0x0000], // half of it: a tie, to even (zero)
    [-(2 ** -25), 0x8000],
    [3 * 2 ** -26, 0x0001], // three quarters of it: up
    [1.5 * 2 ** -24, 0x0002], // a tie between 1 and 2 units: to even
    [1023.5 * 2 ** -24, 0x0400], // a tie that rounds a subnormal up into the normals
    [1 + 2 ** -11, 0x3c00], // a tie between 1 and the next half: to even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // a tie between 0x3c01 and 0x3c02: to even
    [2049, 0x6800], // above 2048 halves step by 2: a tie, to even (2048)
    [2051, 0x6802],
    [1025.4999877929688, 0x6401], // just below a tie: down (a float32 detour would round up)
    [1e-300, 0x0000],
  ];
  for (const [value, bits] of cases) {
    assert.equal(hex(toHalfBits(value)), hex(bits), `toHalfBits(${value})`);
  }
  const nan = toHalfBits(NaN);
  assert.ok((nan & 0x7c00) === 0x7c00 && (nan & 0x3ff) !== 0, `NaN gave ${hex(nan)}`);
});

void test("halves read back as their exact values, and every half survives a round trip (#5)", () => {
  assert.equal(fromHalfBits(0x3c00), 1);
  assert.equal(fromHalfBits(0x7bff), 65504);
  assert.equal(fromHalfBits(0x0001), 2 ** -24);
  assert.equal(fromHalfBits(0x03ff), 1023 * 2 ** -24);
  assert.equal(fromHalfBits(0x2e66), 0.0999755859375);
  assert.ok(Object.is(fromHalfBits(0x8000), -0));
  assert.equal(fromHalfBits(0x7c00), Infinity);
  assert.equal(fromHalfBits(0xfc00), -Infinity);
  assert.ok(Number.isNaN(fromHalfBits(0x7e00)) && Number.isNaN(fromHalfBits(0xfc01)));

  for (let bits = 0; bits <= 0xffff; bits++) {
    const isNaN = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
    if (!isNaN) {
      assert.equal(toHalfBits(fromHalfBits(bits)), bits, `round trip of ${hex(bits)}`);
    }
  }
});

void test("float32 values round to the same halves as onnxruntime's Cast (#5)", async () => {
  const { FLOAT, FLOAT16 } = onnx.TensorProto.DataType;
  const session = await ort.InferenceSession.create(castModel(FLOAT, FLOAT16));
  // Every half, the midpoints above them, and random float32 bit patterns (NaN and infinities
  // included): the midpoints test ties, the random ones subnormals and overflow.
  const values = new Float32Array(65536 * 2 + 50_000);
  const bits = new Uint32Array(values.buffer);
  for (let h = 0; h <= 0xffff; h++) {
    values[2 * h] = fromHalfBits(h);
    values[2 * h + 1] = fromHalfBits(h) * (1 + 2 ** -11);
  }
  for (let i = 65536 * 2; i < values.length; i++) {
    bits[i] = Math.floor(Math.random() * 2 ** 32);
  }

  const { y } = await session.run({ x: new ort.Tensor("float32", values, [values.length]) });
  const expected = y!.data as Uint16Array;
  const differences = [...values].flatMap((v, i) => {
    const mine = toHalfBits(v);
    const same = Number.isNaN(v) ? (mine & 0x7fff) > 0x7c00 : mine === expected[i];
    return same ? [] : [`${v}: ${hex(mine)} vs onnxruntime's ${hex(expected[i]!)}`];
  });
  assert.deepEqual(differences.slice(0, 5), []);
  await session.release();
});
