"""A minimal OpenFisca country package for the Jiaxing enterprise-benefits catalog: the cash clauses an
enterprise is proposed without an application (免申即享) on 2023-09-01, in integer fen."""

import os

from openfisca_core.taxbenefitsystems import TaxBenefitSystem

from jiaxing_openfisca import entities
from jiaxing_openfisca.variables import clauses, inputs, stacking

COUNTRY_DIR = os.path.dirname(os.path.abspath(__file__))


class CountryTaxBenefitSystem(TaxBenefitSystem):
    def __init__(self) -> None:
        super().__init__(entities.entities)
        for module in (inputs, clauses, stacking):
            for name in dir(module):
                value = getattr(module, name)
                if isinstance(value, type) and value.__module__ == module.__name__ and name[0].islower() and hasattr(value, "definition_period"):
                    self.add_variable(value)
        for variable in stacking.GENERATED:
            self.add_variable(variable)
        self.load_parameters(os.path.join(COUNTRY_DIR, "parameters"))
