// The Asset Hub (models and datasets: versions, files, diff, branches, tags, merge) and artifact pages.
export { ArtifactPage } from "./ArtifactPage";
export { AssetHubPage } from "./AssetHubPage";
export { AssetPage } from "./AssetPage";
export { NewArtifactDialog } from "./NewArtifactDialog";
export { NewAssetDialog } from "./NewAssetDialog";
export { assetsEn } from "./strings";
