"""Demo data for ``socialrx dev``: the practices and link-worker team of an invented town.

Loading is an upsert by id, so it is safe on every start.
"""

from sqlmodel import Session, SQLModel

from domain.tables import LinkWorker, LinkWorkerTeam, Practice

TEAM_ID = "millbrook-pcn"

DEMO_PEOPLE: list[SQLModel] = [
    LinkWorkerTeam(
        id=TEAM_ID,
        name="Millbrook Primary Care Network social prescribing team",
        phone="0808 157 0192",  # Ofcom's range for drama: reaches no one
    ),
    Practice(ods_code="A81001", name="Millbrook Medical Centre", team_id=TEAM_ID),
    Practice(ods_code="A81002", name="Riverside Surgery", team_id=TEAM_ID),
    Practice(ods_code="A81003", name="Castle Hill Health Centre", team_id=TEAM_ID),
    LinkWorker(id="lw-amira", name="Amira Khan", team_id=TEAM_ID),
    LinkWorker(id="lw-ben", name="Ben Okafor", team_id=TEAM_ID),
    LinkWorker(id="lw-carys", name="Carys Evans", team_id=TEAM_ID, is_team_lead=True),
]


def load_demo_people(session: Session) -> None:
    for row in DEMO_PEOPLE:
        session.merge(row.model_copy())
    session.commit()
