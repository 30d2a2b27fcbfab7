"""The request-based snippets of Plotly's own docs, unchanged but for the host and credentials.

From the privacy tutorial ("Make All Existing Plots Private") and the delete-plots notebook:
list every file through folders/all following children.next, PATCH every plot private with a
form body, then trash and permanently delete every plot, and then every grid.
Run by `cargo xtask ci compat` against a fresh server with the account compat:compat-key.
"""

import json
import os

import requests
from requests.auth import HTTPBasicAuth

API = os.environ["CS_API"]  # stands for https://api.plot.ly
username = "compat"
api_key = "compat-key"
auth = HTTPBasicAuth(username, api_key)
headers = {"Plotly-Client-Platform": "python"}


def setup():
    """Three grids and three public plots that use them, made through the API."""
    for i in range(3):
        grid = {"cols": {"x": {"data": [1, 2, 3], "order": 0}, "y": {"data": [i, i, i], "order": 1}}}
        res = requests.post(API + "/v2/grids", json={"data": grid, "filename": "grid %d" % i, "world_readable": True},
                            auth=auth, headers=headers)
        assert res.status_code == 201, res.text
        info = res.json()["file"]
        refs = {c["name"]: info["fid"] + ":" + c["uid"] for c in info["cols"]}
        fig = {"data": [{"type": "scatter", "xsrc": refs["x"], "ysrc": refs["y"]}], "layout": {}}
        res = requests.post(API + "/v2/plots", json={"figure": fig, "filename": "plot %d" % i, "world_readable": True},
                            auth=auth, headers=headers)
        assert res.status_code in (200, 201), res.text


# --- privacy tutorial, verbatim but for the host ---
def get_pages(username, page_size):
    url = API + '/v2/folders/all?user=' + username + '&page_size=' + str(page_size)
    response = requests.get(url, auth=auth, headers=headers)
    if response.status_code != 200:
        return
    page = json.loads(response.content)
    yield page
    while True:
        resource = page['children']['next']
        if not resource:
            break
        response = requests.get(resource, auth=auth, headers=headers)
        if response.status_code != 200:
            break
        page = json.loads(response.content)
        yield page


def make_all_private(username, page_size=500):
    for page in get_pages(username, page_size):
        for x in range(0, len(page['children']['results'])):
            fid = page['children']['results'][x]['fid']
            requests.patch(API + '/v2/files/' + fid, {"world_readable": False}, auth=auth, headers=headers)


# --- delete-plots notebook, verbatim but for the host ---
def permanently_delete_files(username, page_size=500, filetype_to_delete='plot'):
    for page in get_pages(username, page_size):
        for x in range(0, len(page['children']['results'])):
            fid = page['children']['results'][x]['fid']
            res = requests.get(API + '/v2/files/' + fid, auth=auth, headers=headers)
            res.raise_for_status()
            if res.status_code == 200:
                json_res = json.loads(res.content)
                if json_res['filetype'] == filetype_to_delete:
                    requests.post(API + '/v2/files/' + fid + '/trash', auth=auth, headers=headers)
                    requests.delete(API + '/v2/files/' + fid + '/permanent_delete', auth=auth, headers=headers)


def all_files():
    return [f for page in get_pages(username, 2) for f in page['children']['results']]


def main():
    setup()
    files = all_files()
    assert len(files) == 6, files
    assert {f["fid"] for f in files} == {"compat:%d" % i for i in range(6)}, "paging by 2 lost or repeated files"

    make_all_private(username)
    assert all(f["world_readable"] is False for f in all_files())
    anonymous = requests.get(API + "/v2/plots/compat:1", headers=headers)
    assert anonymous.status_code == 404, anonymous.status_code

    permanently_delete_files(username, filetype_to_delete='plot')
    left = all_files()
    assert sorted(f["filetype"] for f in left) == ["grid", "grid", "grid"], left
    permanently_delete_files(username, filetype_to_delete='grid')
    assert all_files() == []
    print("docs snippets: ok")


main()
