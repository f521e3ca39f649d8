# EU recommendation 2003/361/EC: an SME employs fewer than 250 persons.
SME_MAX_EMPLOYEES = 249

# Company.import_scope of references set by staff and system imports and by the demo data
# (streams/importing.py ImportScope; facilitators' imports use "region:<NUTS code>").
PLATFORM_SCOPE = "platform"
