// Shared building blocks of the portal's pages (part 2's pages use them too).
export * from "./Breadcrumbs";
export * from "./Dialog";
export * from "./FolderPicker";
export * from "./FolderTree";
export * from "./format";
export * from "./Layout";
export * from "./links";
export * from "./Menu";
export * from "./NodeIcon";
export * from "./session";
export * from "./States";
export * from "./usePagedRows";
export * from "./VirtualTable";
