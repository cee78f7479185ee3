import { errorSpan, FILTER_EXAMPLES, loadHistory, offsetOf, rememberFilter, scopedFilter, tokenize } from "./filterLang";

const kinds = (text: string) => tokenize(text).filter((t) => t.kind !== "space").map((t) => [t.kind, t.text]);

describe("tokenize", () => {
  it("colours every part of a filter and covers the text exactly", () => {
    const text = "MIN(metrics.train.loss) < 0.2 AND params.optimizer IN ('adam', \"sgd\") OR NOT tags.`my tag` like 'x%'";
    expect(tokenize(text).map((t) => t.text).join("")).toBe(text);
    expect(kinds(text)).toEqual([
      ["function", "MIN"],
      ["punct", "("],
      ["prefix", "metrics."],
      ["key", "train.loss"],
      ["punct", ")"],
      ["operator", "<"],
      ["number", "0.2"],
      ["keyword", "AND"],
      ["prefix", "params."],
      ["key", "optimizer"],
      ["keyword", "IN"],
      ["punct", "("],
      ["string", "'adam'"],
      ["punct", ","],
      ["string", '"sgd"'],
      ["punct", ")"],
      ["keyword", "OR"],
      ["keyword", "NOT"],
      ["prefix", "tags."],
      ["key", "`my tag`"],
      ["operator", "like"],
      ["string", "'x%'"],
    ]);
  });

  it("ends a key at an operator and reads negative and scientific numbers", () => {
    expect(kinds("metrics.val.acc>=-1e-3")).toEqual([
      ["prefix", "metrics."],
      ["key", "val.acc"],
      ["operator", ">="],
      ["number", "-1e-3"],
    ]);
  });

  it("keeps escapes inside strings and tolerates an unclosed one", () => {
    expect(kinds("tags.a = 'it\\'s' AND")).toEqual([
      ["prefix", "tags."],
      ["key", "a"],
      ["operator", "="],
      ["string", "'it\\'s'"],
      ["keyword", "AND"],
    ]);
    expect(kinds("tags.a = 'open")).toEqual([
      ["prefix", "tags."],
      ["key", "a"],
      ["operator", "="],
      ["string", "'open"],
    ]);
  });

  it("does not take words that only start like keywords for keywords", () => {
    expect(kinds("index andy")).toEqual([
      ["other", "index"],
      ["other", "andy"],
    ]);
    expect(kinds("params.\"weird key\" = 1")[1]).toEqual(["key", '"weird key"']);
  });

  it("lexes every example without leftovers", () => {
    for (const { filter } of FILTER_EXAMPLES) {
      expect(tokenize(filter).some((t) => t.kind === "other")).toBe(false);
    }
  });
});

describe("errorSpan", () => {
  const text = "metrics.acc > )";
  it("underlines the server's token at its position", () => {
    const span = errorSpan(text, { position: 14, line: 1, column: 15, token: ")" }, "Unexpected ')'");
    expect(span).toEqual({ start: 14, end: 15, message: "Unexpected ')'" });
  });

  it("falls back to line and column, then to our own token there", () => {
    const two = "metrics.acc > 1 AND\nparams.lr >>> 2";
    const pos = offsetOf(two, 2, 11);
    expect(two.slice(pos)).toBe(">>> 2");
    const span = errorSpan(two, { line: 2, column: 11 }, "bad");
    expect(two.slice(span.start, span.end)).toBe(">"); // the lexer's token at that spot
  });

  it("puts a caret at the end when the filter stops early, and clamps wild positions", () => {
    expect(errorSpan("metrics.acc >", { position: 13, token: "" }, "m")).toMatchObject({ start: 13, end: 13 });
    expect(errorSpan("abc", { position: 99 }, "m")).toMatchObject({ start: 3, end: 3 });
    expect(errorSpan("abc", null, "m")).toMatchObject({ start: 3, end: 3 });
  });

  it("maps positions back through the text the client put in front", () => {
    const ids = ["0b7c8f9e-0000-4000-8000-000000000001"];
    const sent = scopedFilter("params.lr = )", ids);
    expect(sent.text.slice(sent.offset, sent.offset + 13)).toBe("params.lr = )");
    const position = sent.text.indexOf(")", sent.offset);
    const span = errorSpan("params.lr = )", { position, token: ")" }, "m", sent.offset);
    expect(span).toMatchObject({ start: 12, end: 13 });
    expect(scopedFilter("x", null)).toEqual({ text: "x", offset: 0 });
    expect(scopedFilter("", []).text).toBe("attributes.run_id IN ('00000000-0000-0000-0000-000000000000')");
    expect(scopedFilter("  ", ids).text).toBe(`attributes.run_id IN ('${ids[0]}')`);
  });
});

describe("history", () => {
  it("keeps recent filters newest first, without repeats, and survives junk", () => {
    localStorage.clear();
    rememberFilter("a = 1");
    rememberFilter("b = 2");
    expect(rememberFilter("a = 1")).toEqual(["a = 1", "b = 2"]);
    expect(rememberFilter("   ")).toEqual(["a = 1", "b = 2"]);
    localStorage.setItem("em.runs.filterHistory", "{not json");
    expect(loadHistory()).toEqual([]);
  });
});
