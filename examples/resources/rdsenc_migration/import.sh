# A migration is imported by its source DB instance identifier. The provider finds the encrypted
# target by its tags (rdsenc:migration=<source>, rdsenc:role=target) and reads the DMS objects.
terraform import rdsenc_migration.orders orders
