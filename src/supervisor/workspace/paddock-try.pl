#!/usr/bin/perl
# paddock-try: asks the workspace's policy decision point whether a call may go ahead, the way
# an agent's hook does, and says what it answered. Installed read-only at /etc/paddock-try in
# every workspace terminal (docs/workspaces.md, "Review-gated calls in a workspace").
#   paddock-try git push origin feature                            an exec (argv)
#   paddock-try POST https://api.github.com/repos/acme/app/pulls   an HTTP request
# Exit status: 0 allowed, 1 denied, 2 held for review (retry the same call once approved).
use strict;
use warnings;
use IO::Socket::UNIX;
use JSON::PP;

die "usage: paddock-try COMMAND [ARG...] | paddock-try METHOD URL\n" unless @ARGV;
my $request = ($ARGV[0] =~ /^(GET|HEAD|POST|PUT|PATCH|DELETE)$/ && @ARGV == 2 && $ARGV[1] =~ m{^https?://})
  ? { action => 'http_request', method => $ARGV[0], url => $ARGV[1] }
  : { action => 'exec', argv => [@ARGV] };
my $socket = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => '/run/paddock/pdp.sock')
  or die "paddock-try: the decision point is not reachable: $!\n";
print $socket encode_json({ id => 1, %$request }) . "\n";
my $line = <$socket> // die "paddock-try: the decision point did not answer\n";
my $answer = decode_json($line);
my $review = $answer->{review};
if ($answer->{decision} eq 'allow') {
  print "allowed\n";
  exit 0;
}
if ($answer->{decision} eq 'review' && $review) {
  print "held for review $review->{reviewId}: waiting\n$review->{message}\n";
  exit 2;
}
my $why = $review ? $review->{message} : ($answer->{detail} // $answer->{reason} // 'denied');
print "denied: $why\n";
exit 1;
