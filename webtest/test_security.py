"""Requests without the token, with a wrong token, or from a foreign origin or host are refused."""
import http.client
import json
import urllib.parse


def request(node, path, headers=None, method="GET", body=None):
    parts = urllib.parse.urlsplit(node.base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        # skip_host: the test sets Host itself when it wants a foreign one.
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        headers = dict(headers or {})
        headers.setdefault("Host", parts.netloc)
        if body is not None:
            headers["Content-Type"] = "application/json"
            headers["Content-Length"] = str(len(body))
        for key, value in headers.items():
            connection.putheader(key, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_missing_or_wrong_token_is_refused(alice):
    wrong = "0" * 64
    for path in ["/", "/assets/app.js", "/api/status", "/api/contacts", "/ws"]:
        status, _, body = request(alice, path)
        assert status == 401, path
        status, _, _ = request(alice, path + ("&" if "?" in path else "?") + "token=" + wrong)
        assert status == 401, path
        status, _, _ = request(alice, path, {"Authorization": "Bearer " + wrong})
        assert status == 401, path
        status, _, _ = request(alice, path, {"Cookie": f"p2pchat_token_{urllib.parse.urlsplit(alice.base).port}={wrong}"})
        assert status == 401, path
    status, _, body = request(alice, "/api/status")
    assert json.loads(body)["error"]["code"] == "unauthorized"
    status, _, _ = request(alice, "/api/contacts/1/messages", method="POST", body=b'{"text":"x"}')
    assert status == 401


def test_foreign_origin_or_host_is_refused(alice):
    auth = {"Authorization": "Bearer " + alice.token}
    assert request(alice, "/api/status", auth)[0] == 200
    for origin in ["http://evil.example", "http://127.0.0.1:1", "null"]:
        assert request(alice, "/api/status", {**auth, "Origin": origin})[0] == 403, origin
    status, _, _ = request(alice, "/api/contacts/1/messages", {**auth, "Origin": "http://evil.example"}, method="POST", body=b'{"text":"x"}')
    assert status == 403
    # DNS rebinding: a foreign name that resolves to 127.0.0.1.
    port = urllib.parse.urlsplit(alice.base).port
    assert request(alice, "/api/status", {**auth, "Host": f"evil.example:{port}"})[0] == 403
    assert request(alice, "/", {**auth, "Host": f"attacker.test:{port}"})[0] == 403


def test_token_url_becomes_cookie_and_leaves_the_address_bar(alice, browsers):
    browser = browsers()
    browser.get(alice.base + "/")
    assert "unauthorized" in browser.page_source
    browser.get(alice.url)
    assert "token=" not in browser.current_url
    cookie = browser.get_cookie(f"p2pchat_token_{urllib.parse.urlsplit(alice.base).port}")
    assert cookie and cookie["httpOnly"] and cookie["value"] == alice.token
