# EU recommendation 2003/361/EC: an SME employs fewer than 250 persons.
SME_MAX_EMPLOYEES = 249
