"""The official Python client's dashboards and presentations, pointed at the local server.

Uploads plots, a dashboard over them (public, then overwritten by name, then a secret one) and
a presentation; lists and reads the dashboards back through `get_dashboard_names` and
`get_dashboard`, which follow `api_urls.dashboards`. Run by `cargo xtask ci compat` with HOME
set to an empty folder; halfway, at `checkpoint()`, the runner kills the server (`kill -9`) and
restarts it on the same address and data folder.
"""

import os
import warnings

import requests

import chart_studio
import chart_studio.dashboard_objs as dashboard
import chart_studio.plotly as py
import chart_studio.presentation_objs as pres

from _runner import checkpoint

API = os.environ["CS_API"]
warnings.simplefilter("ignore")  # the client warns that the domains are http, not https

chart_studio.tools.set_credentials_file(username="pyuser", api_key="pyuser-key")
chart_studio.tools.set_config_file(plotly_domain=API, plotly_api_domain=API)


def fid_of(url):
    owner, number = url.split("?")[0].rstrip("/").split("/")[-2:]
    return owner.lstrip("~") + ":" + number


def main():
    plots = [
        py.plot({"data": [{"type": "bar", "y": [n, n + 1]}]}, filename="dash/plot %d" % n, auto_open=False)
        for n in range(3)
    ]
    board = dashboard.Dashboard()
    board.insert({"type": "box", "boxType": "plot", "fileId": fid_of(plots[0]), "title": "first"})
    board.insert({"type": "box", "boxType": "plot", "fileId": fid_of(plots[1]), "title": "second"}, "above", 1)
    url = py.dashboard_ops.upload(board, "sales board", sharing="public", auto_open=False)
    assert url.startswith(API + "/~pyuser/"), url

    # Uploading again under the same name overwrites the dashboard in place.
    board.insert({"type": "box", "boxType": "plot", "fileId": fid_of(plots[2]), "title": "third"}, "left", 2)
    again = py.dashboard_ops.upload(board, "sales board", sharing="public", auto_open=False)
    assert again == url, (again, url)

    secret = py.dashboard_ops.upload(board, "secret board", sharing="secret", auto_open=False)
    path, key = secret.split("?share_key=")
    assert requests.get(path).status_code == 404, "a secret dashboard's page needs its key"
    assert requests.get(secret).status_code == 200

    deck = pres.Presentation("# Sales\n---\n# The chart\nPlotly(%s)\n" % plots[0].rstrip("/"))
    deck_url = py.presentation_ops.upload(deck, "sales deck", sharing="private", auto_open=False)
    assert deck_url.startswith(API + "/~pyuser/"), deck_url

    checkpoint()  # everything below reads files made before a kill -9 and a restart
    names = py.dashboard_ops.get_dashboard_names()
    assert sorted(names) == ["sales board", "secret board"], names
    read = py.dashboard_ops.get_dashboard("sales board")
    boxes = sorted(node["fileId"] for node in walk(read["layout"]) if node.get("boxType") == "plot")
    assert boxes == sorted(fid_of(p) for p in plots), boxes

    listed = v2_get("spectacle-presentations")
    assert [d["filename"] for d in listed] == ["sales deck"], listed
    content = requests.get(listed[0]["api_urls"]["spectacle-presentations"], auth=("pyuser", "pyuser-key")).json()
    assert "The chart" in content["content"], content
    print("dashboards: 2 dashboards and 1 presentation uploaded and read back")


def walk(node):
    if not isinstance(node, dict):
        return
    yield node
    for half in ("first", "second"):
        yield from walk(node.get(half))


def v2_get(collection):
    answer = requests.get(API + "/v2/" + collection, auth=("pyuser", "pyuser-key"))
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


if __name__ == "__main__":
    main()
