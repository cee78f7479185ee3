// AutoTune: one hyper-parameter search's page (/autotune/:id) and the dialog that starts a live one.
export { AutoTunePage } from "./AutoTunePage";
export { NewSearchDialog } from "./NewSearchDialog";
export { autotuneEn } from "./strings";
