"""The Asset Hub: versioned Model and Dataset nodes (commits, branches, tags, diff, merge).

The node kinds themselves live in `em.models.Node` (kinds `Model` and `Dataset`, storage type 3); this
app will hold their versions once the blob store lands (see the Asset Hub issue).
"""
