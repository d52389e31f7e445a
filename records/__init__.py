"""The clinical record of a clinic: patients, visits, SOAP notes, vitals, ICD-10 diagnoses, prescriptions."""
