# EU recommendation 2003/361/EC: an SME employs fewer than 250 persons.
SME_MAX_EMPLOYEES = 249

# Company.import_scope of references set by staff and system imports and by the demo data
# (streams/importing/scope.py ImportScope; facilitators' imports use "region:<NUTS code>").
PLATFORM_SCOPE = "platform"

# Issue #18: the sector and area shown for a company whose name is hidden are generalised until at
# least this many counted companies share them (companies/anonymity.py).
ANONYMITY_K = 3
# The counts behind those labels are cached under a key that changes with the data; this bounds how
# long an edit the key does not see (a site moved between regions by a bulk update) takes to show.
LABEL_CACHE_SECONDS = 300
