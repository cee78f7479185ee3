import { decodeHistories } from "./historyWire";

/** A frame as em/runs/history_wire.py writes it: magic, header length, padded JSON header, 8-byte columns. */
function frame(header: Record<string, unknown>, columns: (bigint[] | number[])[]): Uint8Array {
  let text = JSON.stringify(header);
  while ((8 + text.length) % 8) text += " ";
  const points = header.points as number;
  const out = new Uint8Array(8 + text.length + 8 * points * columns.length);
  out.set(new TextEncoder().encode("EMH1"), 0);
  new DataView(out.buffer).setUint32(4, text.length, true);
  out.set(new TextEncoder().encode(text), 8);
  let at = 8 + text.length;
  for (const values of columns) {
    const view = new DataView(out.buffer, at, 8 * points);
    values.forEach((v, i) =>
      typeof v === "bigint" ? view.setBigInt64(8 * i, v, true) : view.setFloat64(8 * i, v, true),
    );
    at += 8 * points;
  }
  return out;
}

describe("decodeHistories", () => {
  it("reads frames back to back, with null for NaN and the no-epoch mark", () => {
    const whole = frame(
      { key: "train.loss", count: 3, downsampled: false, points: 3, columns: ["step:<i8", "epoch:<i8", "timestamp:<f8", "value:<f8"] },
      [[0n, 10n, 20n], [-(2n ** 63n), 1n, 1n], [1000, NaN, 1002], [0.5, NaN, 0.25]],
    );
    const sampled = frame(
      {
        key: "val.acc",
        run: "r1",
        count: 9,
        downsampled: true,
        points: 2,
        columns: ["step:<i8", "epoch:<i8", "timestamp:<f8", "value:<f8", "min:<f8", "max:<f8"],
      },
      [[1n, 9n], [0n, 2n], [5, 6], [0.6, 0.8], [0.5, 0.7], [0.7, 0.9]],
    );
    const both = new Uint8Array(whole.length + sampled.length);
    both.set(whole, 0);
    both.set(sampled, whole.length);
    const [first, second] = decodeHistories(both.buffer);
    expect(first).toEqual({
      key: "train.loss",
      count: 3,
      downsampled: false,
      step: [0, 10, 20],
      epoch: [null, 1, 1],
      timestamp: [1000, null, 1002],
      value: [0.5, null, 0.25],
      min: null,
      max: null,
    });
    expect(second).toMatchObject({ key: "val.acc", run: "r1", downsampled: true, min: [0.5, 0.7], max: [0.7, 0.9] });
  });

  it("refuses what is not the compact form", () => {
    expect(() => decodeHistories(new TextEncoder().encode('{"key": 1}').buffer)).toThrow(/compact form/);
  });
});
