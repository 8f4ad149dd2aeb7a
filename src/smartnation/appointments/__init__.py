"""The National Appointment System (NAS) for vaccination.

Supply (vaccines as configuration, centres, dose deliveries, slots released against supply),
demand (registration of interest, screening, cohorts opened in phases, invitations with a personal
booking code), two-dose booking in one transaction, and on-site check-in, walk-ins, doses given and
the observation list. The vaccination records are what a vaccination HealthCert is issued from.
"""
