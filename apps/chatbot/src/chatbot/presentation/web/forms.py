from wtforms import EmailField, validators

from scaffold.web.forms import BaseForm


class SignUpForm(BaseForm):
    email = EmailField(
        "Email address",
        [validators.InputRequired(), validators.Email(), validators.Length(max=254)],
    )
