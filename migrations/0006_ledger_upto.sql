-- Usage-priced (upto) payments (docs/ARCHITECTURE.md §4, §6): the ledger row's amount_atomic is
-- what was charged; max_amount_atomic is the signed maximum that was reserved (NULL for a fixed
-- price, where the two are the same), charge_error the tenant error of the charge report
-- (upto_charge_capped, upto_charge_missing, upto_charge_invalid) or NULL.
ALTER TABLE ledger ADD COLUMN max_amount_atomic TEXT CHECK (max_amount_atomic IS NULL OR
  (max_amount_atomic <> '' AND max_amount_atomic NOT GLOB '*[^0-9]*'));
ALTER TABLE ledger ADD COLUMN charge_error TEXT;
