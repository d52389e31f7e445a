"""Clinics on the platform: the Clinic (tenant) and Domain models, signup and provisioning."""
