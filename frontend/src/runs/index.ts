// The run screens: the runs table (/runs?folder=<id>&recursive=1), one run (/runs/:id) and
// the comparison (/compare?runs=id1,id2,...).
export { ComparePage } from "./ComparePage";
export { RunPage } from "./RunPage";
export { RunsPage } from "./RunsPage";
export { runsEn } from "./strings";
