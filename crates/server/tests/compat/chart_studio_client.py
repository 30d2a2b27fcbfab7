"""The official Python client, chart_studio, pointed at the local server.

Creates public, private and secret plots from figures with raw data (the client uploads the
grid), reads the figures back, uploads a grid and plots from its columns, overwrites a plot in
place, and trashes files. Run by `cargo xtask ci compat` with HOME set to an empty folder.
Halfway, at `checkpoint()`, the runner kills the server (`kill -9`) and restarts it on the same
address and data folder; the flow then reads back what it made before.
"""

import os
import warnings

import requests

import chart_studio
import chart_studio.plotly as py
from chart_studio.api import v2
from chart_studio.grid_objs import Column, Grid

from _runner import checkpoint

API = os.environ["CS_API"]
warnings.simplefilter("ignore")  # the client warns that the domains are http, not https

chart_studio.tools.set_credentials_file(username="pyuser", api_key="pyuser-key")
chart_studio.tools.set_config_file(plotly_domain=API, plotly_api_domain=API)


def figure(ys):
    return {"data": [{"type": "bar", "x": ["a", "b", "c"], "y": ys}], "layout": {"title": {"text": "compat"}}}


def main():
    urls = {}
    for sharing in ["public", "private", "secret"]:
        urls[sharing] = py.plot(figure([1, 2, 3]), filename="compat/" + sharing, sharing=sharing, auto_open=False)
    assert urls["public"].startswith(API + "/~pyuser/"), urls

    checkpoint()  # everything below reads files made before a kill -9 and a restart
    fig = py.get_figure(urls["public"])
    assert list(fig.data[0].y) == [1, 2, 3], fig.data[0].y

    public_fid = "pyuser:" + urls["public"].rstrip("/").split("/")[-1]
    private_fid = "pyuser:" + urls["private"].rstrip("/").split("/")[-1]
    assert requests.get(API + "/v2/plots/" + public_fid).status_code == 200
    assert requests.get(API + "/v2/plots/" + private_fid).status_code == 404

    # The client strips the slash before ?share_key=; the server accepts both forms.
    secret_path, key = urls["secret"].split("?share_key=")
    secret_fid = "pyuser:" + secret_path.rstrip("/").split("/")[-1]
    assert requests.get(API + "/v2/plots/" + secret_fid).status_code == 404
    shared = requests.get(API + "/v2/plots/" + secret_fid + "/content", params={"share_key": key, "inline_data": "true"})
    assert shared.status_code == 200 and shared.json()["data"][0]["y"] == [1, 2, 3], shared.text

    # Re-plotting at the same path updates the file in place: same URL.
    again = py.plot(figure([4, 5, 6]), filename="compat/public", sharing="public", auto_open=False)
    assert again == urls["public"], (again, urls["public"])

    grid = Grid([Column([1, 2, 3], "time"), Column([4, 2, 5], "voltage")])
    py.grid_ops.upload(grid, "compat/measurements", auto_open=False)
    assert grid.id.startswith("pyuser:"), grid.id
    url = py.plot({"data": [{"type": "scatter", "xsrc": grid[0], "ysrc": grid[1]}]}, filename="compat/from-grid",
                  auto_open=False)
    fig = py.get_figure(url)
    assert list(fig.data[0].y) == [4, 2, 5], fig.data[0].y

    py.grid_ops.append_rows([[4, 9]], grid=grid)
    content = v2.grids.content(grid.id).json()
    assert content["cols"]["voltage"]["data"] == [4, 2, 5, 9], content

    v2.plots.trash(public_fid)
    assert v2.files.retrieve(public_fid).json()["deleted"] is True
    v2.plots.restore(public_fid)
    v2.plots.trash(private_fid)
    v2.plots.permanent_delete(private_fid)
    assert requests.get(API + "/v2/files/" + private_fid, auth=("pyuser", "pyuser-key")).status_code == 404
    print("chart_studio client: ok")


main()
