"""Mail flood for bench/hostile.sh: sends COUNT messages of MB megabytes each to an SMTP
listener (nocall's own, `mail: {smtp: …}`) on 127.0.0.1:PORT, to someone the journey does
not wait for, then one small message to the address it waits for. Waits for the listener
to open; exits when done.

    python3 bench/hostile/flood.py PORT COUNT MB"""
import smtplib
import sys
import time

port, count, mb = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
for _ in range(600):
    try:
        smtplib.SMTP("127.0.0.1", port, timeout=5).quit()
        break
    except OSError:
        time.sleep(0.1)
line = "x" * 998 + "\r\n"
body = line * (mb * 1024 * 1024 // len(line))
for i in range(count):
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as s:
        msg = f"From: portal@portal.test\r\nTo: other@example.test\r\nSubject: Bulk {i}\r\n\r\n{body}"
        try:
            s.sendmail("portal@portal.test", ["other@example.test"], msg)
        except smtplib.SMTPException as e:
            print(f"message {i}: {e}", file=sys.stderr)
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.sendmail("portal@portal.test", ["pat@example.test"],
               "From: portal@portal.test\r\nTo: pat@example.test\r\nSubject: Welcome\r\n\r\n"
               "Open https://portal.test/welcome to start.\r\n")
