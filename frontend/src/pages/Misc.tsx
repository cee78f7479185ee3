// Small pages: sign-in (Django's form does it), not found.
import { useEffect } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { goToSignIn, Loading } from "../components";
import { en } from "../i18n/en";

/** /signin: the session lives in Django, so sign-in is its form; come back to `?next=` afterwards. */
export function SignIn() {
  const [params] = useSearchParams();
  const next = params.get("next") ?? "/";
  useEffect(() => goToSignIn(next.startsWith("/") ? next : "/"), [next]);
  return <Loading label={en.app.signingIn} />;
}

export function NotFound() {
  return (
    <div className="page">
      <h1>{en.app.notFoundTitle}</h1>
      <p>{en.app.notFoundBody}</p>
      <Link to="/">{en.app.backHome}</Link>
    </div>
  );
}
