"""Kubernetes through the official client: the Pods, Workloads, Top, Events, Errors and
Jobs data.  source.py is the KubeSource the pollers read (informers and metrics);
client.py connects (kubeconfig, context) and words the client's errors; watch.py is the
list-then-watch informer; raw.py reads (lists, watches, logs, objects) without the API classes;
convert.py turns that JSON into snapshot rows as kubectl prints them; logs.py follows pod
logs (the error feed and one pod's log); describe.py is `kubectl describe svc`.
"""
