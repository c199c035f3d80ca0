#!/usr/bin/python3
"""Closes a process's windows the way a window manager does when the user clicks the
close button: a WM_DELETE_WINDOW client message to each of its top-level windows that
asks for one (WM_PROTOCOLS). The window's owner decides what happens next.

Usage: close-window.py PID   (on $DISPLAY; needs Debian's python3-xlib)

Used by tests/desktop/smoke.mjs: WebKitWebDriver's own "close window" ends the session
and kills the app, which is not what a user closing the window does.
"""

import sys

from Xlib import X, display
from Xlib.protocol import event


def windows_of(screen_root, pid, net_wm_pid):
    """Top-level windows (children of the root) whose _NET_WM_PID is `pid`."""
    for window in screen_root.query_tree().children:
        prop = window.get_full_property(net_wm_pid, X.AnyPropertyType)
        if prop is not None and len(prop.value) > 0 and prop.value[0] == pid:
            yield window


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: close-window.py PID")
    pid = int(sys.argv[1])
    connection = display.Display()
    net_wm_pid = connection.intern_atom("_NET_WM_PID")
    wm_protocols = connection.intern_atom("WM_PROTOCOLS")
    wm_delete = connection.intern_atom("WM_DELETE_WINDOW")
    closed = 0
    for window in windows_of(connection.screen().root, pid, net_wm_pid):
        if wm_delete not in (window.get_wm_protocols() or []):
            continue
        message = event.ClientMessage(
            window=window,
            client_type=wm_protocols,
            data=(32, [wm_delete, X.CurrentTime, 0, 0, 0]),
        )
        window.send_event(message, event_mask=X.NoEventMask)
        closed += 1
    connection.flush()
    connection.close()
    if closed == 0:
        sys.exit(f"no window of process {pid} accepts WM_DELETE_WINDOW")
    print(f"asked {closed} window(s) of process {pid} to close")


if __name__ == "__main__":
    main()
