// The little of plotly.js the compare page uses (the package ships no types). The "strict" bundle is
// plotly.js built without `new Function`, so the portal's Content-Security-Policy needs no unsafe-eval.
declare module "plotly.js-strict-dist-min" {
  export type Data = Record<string, unknown>;
  export type Layout = Record<string, unknown>;
  export function react(el: HTMLElement, data: Data[], layout?: Layout, config?: Record<string, unknown>): Promise<unknown>;
  export function purge(el: HTMLElement): void;
  const Plotly: { react: typeof react; purge: typeof purge };
  export default Plotly;
}
