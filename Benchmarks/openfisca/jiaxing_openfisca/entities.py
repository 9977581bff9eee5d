"""Entities: an enterprise (企业) is a group entity whose members are its recognition records.

OpenFisca needs exactly one person entity. Here it is one recognition record (认定记录: which
recognition, at which level, on which day), because an enterprise can hold any number of them and the
clauses ask "does it hold one that counts" — an aggregation over members, which is what OpenFisca's
group entities do (``enterprise.any(mask, role=Enterprise.RECORD)``). Yearly facts (研发费用 …) are
variables of the enterprise itself, one value per year.
"""

from openfisca_core.entities import build_entity

Recognition = build_entity(
    key="recognition",
    plural="recognitions",
    label="A recognition record (认定记录) held by an enterprise",
    doc="One RecognitionRecord of an EnterpriseProfile: recognition id, level, recognized_on.",
    is_person=True,
)

Enterprise = build_entity(
    key="enterprise",
    plural="enterprises",
    label="An enterprise (企业) identified by its unified social credit code",
    doc="One EnterpriseProfile. Its members are its recognition records; an enterprise may have none.",
    roles=[
        {
            "key": "record",
            "plural": "records",
            "label": "Recognition record",
            "doc": "Every member of an enterprise is one of its recognition records.",
        },
    ],
)

entities = [Recognition, Enterprise]
