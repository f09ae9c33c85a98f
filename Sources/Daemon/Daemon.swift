// The GitOps daemon (issue 6).
import Reconciler
