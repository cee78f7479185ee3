"""Asset Hub operations: services take the caller and a `Node | Access` (a view's proof) and check with
`em.access.ensure`, like em's own services; views stay thin."""
