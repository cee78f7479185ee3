import pytest

from tests.factories import folder, root


@pytest.mark.django_db
def test_user_gets_root_and_can_list_it(alice, api):
    folder(root(alice), "exp")
    response = api(alice).get(f"/api/v1/nodes/{root(alice).pk}/children")
    assert response.status_code == 200
    assert [n["name"] for n in response.json()["results"]] == ["exp"]
    assert response.json()["results"][0]["path"] == "/alice/exp"
