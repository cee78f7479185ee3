"""Operations on the node tree (writes) and the reads they need. Views call these, never the ORM.

Every service takes the acting user as `by` and checks rights through `em.access`, so the API, the
admin, management commands and tasks all obey the same rules.
"""
