"""A signed-in staff member talking to the real server over HTTP, as the app does: one kept-alive
connection, the session and CSRF cookies, JSON in and out. For the benchmarks that measure the whole
stack (gunicorn, middleware, the clinic's schema) rather than Django's in-process test client."""

import http.client
import json
import re
import urllib.parse
from http.cookies import SimpleCookie
from typing import Any


class HttpSession:
    def __init__(self, *, port: int, host: str) -> None:
        self.port = port
        self.host = f"{host}:{port}"
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> tuple:
        headers = {"Host": self.host, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the kept-alive connection while it sat idle: reconnect and send again,
            # as a browser does (pushes and pulls are safe to repeat).
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response.status, data

    def sign_in(self, email: str, password: str) -> None:
        status, page = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise RuntimeError(f"no sign-in form ({status})")
        form = urllib.parse.urlencode({"login": email, "password": password, "csrfmiddlewaretoken": token[1]})
        status, _ = self.request(
            "POST", "/accounts/login/", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302:
            raise RuntimeError(f"sign-in refused ({status})")

    def post_json(self, path: str, body: Any) -> tuple[int, Any]:
        """`body`: a value to send as JSON, or JSON already encoded (bytes)."""
        csrf = next((value for name, value in self.cookies.items() if name.endswith("csrftoken")), "")
        headers = {"Content-Type": "application/json", "X-CSRFToken": csrf}
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        status, data = self.request("POST", path, payload, headers)
        return status, json.loads(data)

    def get_json(self, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        status, data = self.request("GET", f"{path}?{urllib.parse.urlencode(params)}")
        return status, json.loads(data)
