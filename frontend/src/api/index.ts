// The typed client of the REST API: import from here.
export * from "./accounts";
export * from "./client";
export * from "./nodes";
export * from "./types";
