"""The national registry: the government's own records of residents, businesses and addresses.

Identity, MyInfo and every service read people and businesses from here. It stands in for the
records that ICA (residents), ACRA (businesses) and SLA/OneMap (addresses) keep, and comes with a
synthetic population generator shaped like Singapore's for demos, tests and national-scale loads.
"""
