/**
 * The emails Pulse sends. Plain text; every link carries its token as `token=<value>` and points
 * at a dashboard page, which posts the token to the API.
 */
import type { OutgoingMail } from "./outbox";

export function verificationEmail(to: string, link: string, validHours: number): OutgoingMail {
  return {
    to,
    template: "email_verification",
    subject: "Verify your email address for Pulse",
    text: [
      "Welcome to Pulse.",
      "",
      "Confirm that this is your email address by opening this link:",
      link,
      "",
      `The link works once and expires in ${validHours} hours. If you did not sign up, ignore this email.`,
    ].join("\n"),
  };
}

export function passwordResetEmail(to: string, link: string, validMinutes: number): OutgoingMail {
  return {
    to,
    template: "password_reset",
    subject: "Reset your Pulse password",
    text: [
      "Someone asked to reset the password of the Pulse account for this address.",
      "",
      "Choose a new password here:",
      link,
      "",
      `The link works once and expires in ${validMinutes} minutes. Resetting signs you out everywhere.`,
      "If you did not ask for this, ignore this email; your password stays as it is.",
    ].join("\n"),
  };
}

export function invitationEmail(to: string, orgName: string, role: string, link: string, expiresAt: string): OutgoingMail {
  return {
    to,
    template: "invitation",
    subject: `You are invited to join ${orgName} on Pulse`,
    text: [
      `You have been invited to join the organization "${orgName}" on Pulse as ${role}.`,
      "",
      "Accept the invitation here (sign in or sign up with this email address first):",
      link,
      "",
      `The invitation expires at ${expiresAt}.`,
    ].join("\n"),
  };
}
